// libFuzzer harness for a send request's parsing (RawSocket::PrepareSends and
// ParseAddress in raw_socket.cc; IntegerValue in arguments.cc): the same pure checks
// (request_checks.h) on fuzzed numbers and address text, then what the addon does
// with an accepted request (a pointer into the buffer, the checksum written at
// checksumOffset) on a buffer of exactly its size, so ASan sees any access past it.
// Every accepted value must be in its documented range.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "../src/checksum.h"
#include "../src/request_checks.h"

using namespace rawsocket;

static double RawDouble(FuzzedDataProvider& input) {
  // Raw bits reach NaN payloads, infinities, -0 and subnormals; small integers are
  // likelier from the second form, so the accepting paths are reached too.
  if (input.ConsumeBool()) return static_cast<double>(input.ConsumeIntegralInRange<int32_t>(-3, 70000));
  uint64_t bits = input.ConsumeIntegral<uint64_t>();
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  const int family = input.ConsumeBool() ? AF_INET6 : AF_INET;
  const bool udp = input.ConsumeBool();
  const size_t bufferSize = input.ConsumeIntegralInRange<size_t>(0, 2048);
  const double offset = RawDouble(input), length = RawDouble(input), port = RawDouble(input);
  const double hopLimit = RawDouble(input), trafficClass = RawDouble(input), integer = RawDouble(input);
  const size_t checksumOffset = input.ConsumeIntegralInRange<size_t>(0, 65533);  // setChecksum's range
  // The address as napi_get_value_string_utf8 leaves it: cut to the buffer, NUL-terminated.
  const std::string address = input.ConsumeRandomLengthString(256);
  char text[kAddressTextSize];
  const size_t textLength = std::min(address.size(), sizeof text - 1);
  std::memcpy(text, address.data(), textLength);
  text[textLength] = '\0';

  if (IsIntegerIn(integer, -5, 65535) && !(integer >= -5 && integer <= 65535 && integer == static_cast<int64_t>(integer))) {
    __builtin_trap();
  }
  const int32_t hop = HeaderFieldNumber(hopLimit, family == AF_INET ? 1 : 0);
  if (hop != kInvalidField && hop != -1 && !(hop >= (family == AF_INET ? 1 : 0) && hop <= 255)) __builtin_trap();
  const int32_t tclass = HeaderFieldNumber(trafficClass, 0);
  if (tclass != kInvalidField && !(tclass >= -1 && tclass <= 255)) __builtin_trap();
  const uint32_t destinationPort = udp ? UdpPortNumber(port) : 0;
  if (destinationPort > 65535) __builtin_trap();

  sockaddr_storage parsed{};
  socklen_t parsedLength = 0;
  if (AddressTextUsable(text, textLength) && ParseAddressText(family, text, &parsed, &parsedLength)) {
    if (parsed.ss_family != family) __builtin_trap();
    if (parsedLength != (family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6))) __builtin_trap();
    // The parsed address written back and parsed again gives the same bytes.
    char back[INET6_ADDRSTRLEN];
    const void* bytes = family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&parsed)->sin_addr)
                                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&parsed)->sin6_addr);
    if (inet_ntop(family, bytes, back, sizeof back) == nullptr) __builtin_trap();
    sockaddr_storage again{};
    socklen_t againLength = 0;
    if (!ParseAddressText(family, back, &again, &againLength)) __builtin_trap();
    const size_t addressBytes = family == AF_INET ? 4 : 16;
    const void* againBytes = family == AF_INET ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&again)->sin_addr)
                                               : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&again)->sin6_addr);
    if (std::memcmp(bytes, againBytes, addressBytes) != 0) __builtin_trap();
  }

  if (ByteRangeFits(offset, length, static_cast<double>(bufferSize))) {
    // As PrepareSends: a pointer into the buffer, then the checksum at checksumOffset.
    std::vector<uint8_t> buffer(input.ConsumeBytes<uint8_t>(bufferSize));
    buffer.resize(bufferSize);
    buffer.shrink_to_fit();
    uint8_t* start = buffer.data() + static_cast<size_t>(offset);
    const size_t count = static_cast<size_t>(length);
    if (checksumOffset + 2 <= count) {
      start[checksumOffset] = 0;
      start[checksumOffset + 1] = 0;
      const uint16_t sum = static_cast<uint16_t>(~OnesComplementSum(start, count));
      start[checksumOffset] = static_cast<uint8_t>(sum >> 8);
      start[checksumOffset + 1] = static_cast<uint8_t>(sum & 0xff);
      // At an even offset (any offset is allowed, as raw-socket did), a packet with its
      // checksum in place sums to all ones.
      const uint16_t check = OnesComplementSum(start, count);
      if (checksumOffset % 2 == 0 && check != 0xffff && check != 0) __builtin_trap();
    } else if (count > 0) {
      volatile uint8_t last = start[count - 1];  // the last byte the send would read
      (void)last;
    }
  }
  return 0;
}
