#include "packet_socket.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#endif

#include <cerrno>
#include <cstring>

#include "system_error.h"

namespace rawsocket {

int OpenPacketSocket() {
#ifdef __linux__
  // Protocol 0: bound to nothing yet, so nothing is queued before bind() says which interface.
  return socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
  errno = EAFNOSUPPORT;
  return -1;
#endif
}

int BindPacketSocket(int fd, int interfaceIndex) {
#ifdef __linux__
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  // ETH_P_ALL, not ETH_P_IP: only ETH_P_ALL sockets see the packets an interface sends.
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = interfaceIndex;
  return bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 ? errno : 0;
#else
  return EAFNOSUPPORT;
#endif
}

int InterfaceIndex(Napi::Env env, const std::string& name) {
  const unsigned int index = if_nametoindex(name.c_str());
  if (index == 0) {
    const int error = errno == 0 ? ENODEV : errno;
    Napi::Error failure = SystemError(env, error == ENXIO ? ENODEV : error, "if_nametoindex");
    failure.Value().Set("message", Napi::String::New(env, "No network interface named '" + name +
                                                              "' in this network namespace (if_nametoindex: " +
                                                              std::strerror(error) + ")"));
    throw failure;
  }
  return static_cast<int>(index);
}

const std::string& InterfaceNames::Name(int fd, int index) {
  auto found = names_.find(index);
  if (found != names_.end()) return found->second;
  char name[IF_NAMESIZE] = "";
  ifreq request{};
  request.ifr_ifindex = index;
  if (ioctl(fd, SIOCGIFNAME, &request) == 0) std::memcpy(name, request.ifr_name, IF_NAMESIZE - 1);
  // Bounded: a namespace has few interfaces, but interfaces come and go.
  if (names_.size() >= 4096) names_.clear();
  return names_.emplace(index, name).first->second;
}

bool WantedEtherType(uint16_t etherTypeNetworkOrder, int selection) {
  const int etherType = ntohs(etherTypeNetworkOrder);
  if (selection == kEtherTypeBoth) return etherType == kEtherTypeIPv4 || etherType == kEtherTypeIPv6;
  return etherType == selection;
}

std::string PacketSourceText(const uint8_t* data, size_t length) {
  char text[INET6_ADDRSTRLEN] = "";
  if (length >= 20 && data[0] >> 4 == 4) {
    inet_ntop(AF_INET, data + 12, text, sizeof text);
  } else if (length >= 40 && data[0] >> 4 == 6) {
    inet_ntop(AF_INET6, data + 8, text, sizeof text);
  }
  return text;
}

}  // namespace rawsocket
