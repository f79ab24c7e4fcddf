// libFuzzer harness for the checksum path (checksumSum and sendBatch's checksum
// generation): the same byte-range check (request_checks.h) and OnesComplementSum
// (checksum.cc) the addon runs, on a buffer of exactly the input's size, so ASan sees
// any read past it; the sum must equal a plain RFC 1071 reference.
#include <cstdint>
#include <cstring>
#include <vector>

#include "../src/checksum.h"
#include "../src/request_checks.h"

static uint16_t ReferenceSum(const uint8_t* data, size_t length) {
  uint32_t sum = 0;
  for (size_t i = 0; i < length; i += 2) {
    sum += static_cast<uint32_t>(data[i]) << 8 | (i + 1 < length ? data[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

// 0 and 0xffff are the same one's complement value (+0 and -0).
static bool SameSum(uint16_t a, uint16_t b) { return a == b || ((a == 0 || a == 0xffff) && (b == 0 || b == 0xffff)); }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* input, size_t size) {
  // The first 16 bytes: offset and length as raw doubles (NaN, infinities, -0, fractions
  // and huge values included); the rest: the buffer, copied to its own allocation.
  if (size < 16) return 0;
  double offset, length;
  std::memcpy(&offset, input, 8);
  std::memcpy(&length, input + 8, 8);
  const size_t bytes = size - 16;
  uint8_t* buffer = new uint8_t[bytes ? bytes : 1];
  std::memcpy(buffer, input + 16, bytes);
  // Also the whole buffer, as checksumSum(buffer, 0, buffer.length) would.
  if (!SameSum(rawsocket::OnesComplementSum(buffer, bytes), ReferenceSum(buffer, bytes))) __builtin_trap();
  if (rawsocket::ByteRangeFits(offset, length, static_cast<double>(bytes))) {
    const size_t start = static_cast<size_t>(offset), count = static_cast<size_t>(length);
    if (start > bytes || count > bytes - start) __builtin_trap();  // the check let a range past the end through
    if (!SameSum(rawsocket::OnesComplementSum(buffer + start, count), ReferenceSum(buffer + start, count))) __builtin_trap();
  }
  delete[] buffer;
  return 0;
}
