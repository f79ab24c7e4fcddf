#include "checksum.h"

#include <cstring>

#include "arguments.h"

namespace rawsocket {

namespace {

inline bool HostIsLittleEndian() {
  const uint16_t probe = 1;
  uint8_t first;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

}  // namespace

uint16_t OnesComplementSum(const uint8_t* data, size_t length) {
  // Sum native-order 32-bit words into a 64-bit accumulator: carries pile up in
  // the high half and are folded once at the end (RFC 1071, "deferred carries").
  // The sum is byte-order independent up to one final swap, so there is no
  // per-word byte swapping; the simple loop lets the compiler vectorize it.
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 4 <= length; i += 4) {
    uint32_t word;
    std::memcpy(&word, data + i, 4);
    sum += word;
  }
  if (i + 2 <= length) {
    uint16_t half;
    std::memcpy(&half, data + i, 2);
    sum += half;
    i += 2;
  }
  const bool little = HostIsLittleEndian();
  if (i < length) sum += little ? data[i] : static_cast<uint32_t>(data[i]) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint16_t folded = static_cast<uint16_t>(sum);
  if (little) folded = static_cast<uint16_t>((folded >> 8) | (folded << 8));
  return folded;
}

Napi::Value ChecksumSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ByteRange range = ByteRangeArgument(info, 0, "buffer");
  return Napi::Number::New(env, OnesComplementSum(range.data, range.length));
}

}  // namespace rawsocket
