#include "checksum.h"

#include <cmath>
#include <cstring>

#include "request_checks.h"


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

// Plain Node-API rather than node-addon-api's wrappers: this is called per packet,
// and the wrappers cost as much as summing a 1500-byte packet.
napi_value ChecksumSum(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  napi_typedarray_type type;
  size_t size = 0;
  void* data = nullptr;
  if (argc < 3 || napi_get_typedarray_info(env, argv[0], &type, &size, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "The \"buffer\" argument must be a Buffer or Uint8Array");
    return nullptr;
  }
  double offset = 0;
  double length = 0;
  if (napi_get_value_double(env, argv[1], &offset) != napi_ok || napi_get_value_double(env, argv[2], &length) != napi_ok) {
    napi_throw_type_error(env, nullptr, "The \"offset\" and \"length\" arguments must be numbers");
    return nullptr;
  }
  if (!ByteRangeFits(offset, length, static_cast<double>(size))) {
    napi_throw_range_error(env, nullptr, "offset and length must be whole numbers within the buffer");
    return nullptr;
  }
  napi_value result;
  napi_create_uint32(env, OnesComplementSum(static_cast<uint8_t*>(data) + static_cast<size_t>(offset),
                                            static_cast<size_t>(length)),
                     &result);
  return result;
}

}  // namespace rawsocket
