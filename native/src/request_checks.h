// The pure checks behind the addon's argument parsing (checksumSum, sendBatch's
// requests, integer arguments): no Node-API in them, so the libFuzzer harnesses in
// native/fuzz/ call exactly the code the addon runs.
#pragma once
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

namespace rawsocket {

// offset and length whole numbers >= 0 with offset + length <= size (NaN and infinity fail).
inline bool ByteRangeFits(double offset, double length, double size) {
  return !(!(offset >= 0) || !(length >= 0) || std::floor(offset) != offset || std::floor(length) != length ||
           offset + length > size);
}

// A whole number in [min, max] (NaN and infinity fail).
inline bool IsIntegerIn(double number, int64_t min, int64_t max) {
  return !(!std::isfinite(number) || std::floor(number) != number || number < static_cast<double>(min) ||
           number > static_cast<double>(max));
}

// A send request's hopLimit or trafficClass number: -1 stays -1 (the socket's own), an
// integer in [min, 255] is taken, anything else is kInvalidField.
constexpr int32_t kInvalidField = INT32_MIN;
inline int32_t HeaderFieldNumber(double number, int32_t min) {
  if (number == -1) return -1;
  if (!(number >= min && number <= 255) || std::floor(number) != number) return kInvalidField;
  return static_cast<int32_t>(number);
}

// A UDP destination port: an integer 1-65535, else 0.
inline uint32_t UdpPortNumber(double value) {
  if (!(value >= 1 && value <= 65535) || std::floor(value) != value) return 0;
  return static_cast<uint32_t>(value);
}

// Room for the longest address text: an IPv6 address, '%', an interface name, NUL.
constexpr size_t kAddressTextSize = INET6_ADDRSTRLEN + IF_NAMESIZE + 2;

// text (length bytes, NUL-terminated, as napi_get_value_string_utf8 left it in a
// kAddressTextSize buffer) fits, and has no NUL inside (inet_pton would stop there).
inline bool AddressTextUsable(const char* text, size_t length) {
  return length + 1 < kAddressTextSize && std::strlen(text) == length;
}

// Parses a numeric IPv4 (family AF_INET) or IPv6 address, the latter with an optional
// %scope (an interface index or name), into out with port 0.
inline bool ParseAddressText(int family, const char* text, sockaddr_storage* out, socklen_t* outLength) {
  sockaddr_storage parsed{};
  if (family == AF_INET) {
    sockaddr_in* address = reinterpret_cast<sockaddr_in*>(&parsed);
    address->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &address->sin_addr) != 1) return false;
    *outLength = sizeof(sockaddr_in);
  } else {
    sockaddr_in6* address = reinterpret_cast<sockaddr_in6*>(&parsed);
    address->sin6_family = AF_INET6;
    std::string host(text);
    std::string scope;
    size_t percent = host.find('%');
    if (percent != std::string::npos) {
      scope = host.substr(percent + 1);
      host.resize(percent);
      if (scope.empty()) return false;
    }
    if (inet_pton(AF_INET6, host.c_str(), &address->sin6_addr) != 1) return false;
    if (!scope.empty()) {
      char* end = nullptr;
      unsigned long index = std::strtoul(scope.c_str(), &end, 10);
      if (end == nullptr || *end != '\0') index = if_nametoindex(scope.c_str());
      if (index == 0) return false;
      address->sin6_scope_id = static_cast<uint32_t>(index);
    }
    *outLength = sizeof(sockaddr_in6);
  }
  *out = parsed;
  return true;
}

}  // namespace rawsocket
