// Ancillary data (control messages): what the kernel attaches to a received datagram
// (timestamps, drop counts, header fields, the local address) and what a send attaches
// to set header fields for one packet.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace rawsocket {

// Room per datagram: a timestamp (32 bytes, 64 with SO_TIMESTAMPING), a drop count (16),
// IPV6_PKTINFO (40), the hop limit and traffic class (24 each). MSG_CTRUNC beyond it.
constexpr size_t kReceiveControlSize = 256;
// Room per sent datagram: two int control messages.
constexpr size_t kSendControlSize = 2 * CMSG_SPACE(sizeof(int));

// One received datagram's ancillary data; -1 (or false) where the kernel attached none.
struct ReceivedAncillary {
  bool hasTimestamp = false;
  uint64_t timestamp = 0;  // ns since the epoch
  // SO_RXQ_OVFL: packets this socket had dropped when the datagram was queued (0: none attached).
  uint32_t drops = 0;
  int hopLimit = -1;      // IP_TTL / IPV6_HOPLIMIT
  int trafficClass = -1;  // IP_TOS / IPV6_TCLASS
  int interfaceIndex = -1;
  int localFamily = AF_UNSPEC;  // IP_PKTINFO / IPV6_PKTINFO: the destination address of the datagram
  uint8_t localAddress[16] = {};
};

void ParseReceivedAncillary(msghdr* header, ReceivedAncillary* out);

// The options that make the kernel attach the above, on an open socket (family AF_INET or
// AF_INET6): SO_RXQ_OVFL always; with packetInfo, the local address and interface, hop
// limit and traffic class (IP_PKTINFO, IP_RECVTTL, IP_RECVTOS / their IPv6 counterparts).
// Returns 0 or errno.
int EnableDropCounts(int fd);
int EnablePacketInfo(int fd, int family);

// Kernel software transmit timestamps on the error queue, numbered per send
// (SO_TIMESTAMPING: TX_SOFTWARE | SOFTWARE | OPT_ID | OPT_TSONLY). Returns 0 or errno.
int EnableTransmitTimestamps(int fd);

// packets the kernel has dropped for this socket so far (SO_MEMINFO), or -1 where the OS cannot tell.
int64_t ReadDropCount(int fd);

// Writes the control messages that set one datagram's hop limit / TTL and traffic class /
// TOS (-1: leave as is) into buffer (kSendControlSize bytes). Returns the bytes used (0: none).
size_t WriteHeaderFields(int family, int hopLimit, int trafficClass, uint8_t* buffer);

// Whether the socket sends packets that carry their own IP header (IP_HDRINCL, IPV6_HDRINCL):
// per-packet header fields cannot apply to them.
bool IncludesHeader(int fd, int family);

}  // namespace rawsocket
