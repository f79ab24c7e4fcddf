// RFC 1071 Internet checksum: the 16-bit one's complement sum of big-endian words.
#pragma once
#include <napi.h>
#include <cstddef>
#include <cstdint>

namespace rawsocket {

// One's complement sum (folded to 16 bits, not complemented) of data read as
// big-endian 16-bit words; an odd last byte counts as the high byte of a word.
uint16_t OnesComplementSum(const uint8_t* data, size_t length);

// JS: checksumSum(buffer: Uint8Array, offset: number, length: number) -> number
napi_value ChecksumSum(napi_env env, napi_callback_info info);

}  // namespace rawsocket
