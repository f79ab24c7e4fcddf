// Packet sockets (Linux AF_PACKET, SOCK_DGRAM): whole IP packets as the interface saw them,
// in both directions, for capture. What RawSocket needs to open one and describe what it reads.
#pragma once
#include <napi.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace rawsocket {

// The EtherTypes a packet socket delivers (it listens to all, ETH_P_ALL: only those see
// outgoing packets; others are skipped as they are read).
constexpr int kEtherTypeIPv4 = 0x0800;
constexpr int kEtherTypeIPv6 = 0x86dd;
constexpr int kEtherTypeBoth = 0;  // IPv4 and IPv6

// Opens an AF_PACKET SOCK_DGRAM socket that receives nothing until BindPacketSocket
// (so no other interface's packet slips in first). Returns the descriptor or -1 (errno).
int OpenPacketSocket();
// Starts receiving every protocol on interfaceIndex (0: every interface). Returns 0 or errno.
int BindPacketSocket(int fd, int interfaceIndex);

// The interface's index in this network namespace; throws a system error (ENODEV)
// naming it when there is none.
int InterfaceIndex(Napi::Env env, const std::string& name);

// Interface names by index, looked up once each (if_indextoname), "" when unknown.
class InterfaceNames {
 public:
  // Asked of the socket fd itself (SIOCGIFNAME), so the name is the one in the socket's own
  // network namespace, also when it was opened inside a lab host's.
  const std::string& Name(int fd, int index);

 private:
  std::unordered_map<int, std::string> names_;
};

// Whether a packet of this EtherType (network byte order as read) is one the socket delivers.
bool WantedEtherType(uint16_t etherTypeNetworkOrder, int selection);

// The IP source address of a packet starting at its IP header (IPv4 or IPv6 by its
// version), as inet_ntop text; "" when the packet is too short for one.
std::string PacketSourceText(const uint8_t* data, size_t length);

}  // namespace rawsocket
