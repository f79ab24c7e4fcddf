#include "ancillary.h"

#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#endif

#include <cerrno>
#include <cstring>

namespace rawsocket {

namespace {

uint64_t Nanoseconds(const timespec& ts) {
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

int IntData(const cmsghdr* c) {
  int value = 0;
  std::memcpy(&value, CMSG_DATA(c), sizeof value);
  return value;
}

int SetFlag(int fd, int level, int option) {
  const int on = 1;
  return setsockopt(fd, level, option, &on, sizeof on) < 0 ? errno : 0;
}

}  // namespace

void ParseReceivedAncillary(msghdr* header, ReceivedAncillary* out) {
  if (header->msg_controllen == 0) return;
  bool preciseTimestamp = false;  // SCM_TIMESTAMPNS wins over the others
  for (cmsghdr* c = CMSG_FIRSTHDR(header); c != nullptr; c = CMSG_NXTHDR(header, c)) {
    if (c->cmsg_level == SOL_SOCKET) {
#ifdef SCM_TIMESTAMPNS
      if (c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        out->timestamp = Nanoseconds(ts);
        out->hasTimestamp = preciseTimestamp = true;
        continue;
      }
#endif
#ifdef SCM_TIMESTAMPING
      // Another socket's SO_TIMESTAMPING may make the kernel add this one; ts[0] is software.
      if (c->cmsg_type == SCM_TIMESTAMPING && !preciseTimestamp && c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        if (ts.tv_sec != 0 || ts.tv_nsec != 0) {
          out->timestamp = Nanoseconds(ts);
          out->hasTimestamp = true;
        }
        continue;
      }
#endif
      if (c->cmsg_type == SCM_TIMESTAMP && !preciseTimestamp) {
        timeval tv;
        std::memcpy(&tv, CMSG_DATA(c), sizeof tv);
        out->timestamp = static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL + static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
        out->hasTimestamp = true;
        continue;
      }
#ifdef SO_RXQ_OVFL
      if (c->cmsg_type == SO_RXQ_OVFL) {
        std::memcpy(&out->drops, CMSG_DATA(c), sizeof out->drops);
        continue;
      }
#endif
    } else if (c->cmsg_level == IPPROTO_IP) {
      if (c->cmsg_type == IP_TTL) {
        out->hopLimit = IntData(c);
      } else if (c->cmsg_type == IP_TOS && c->cmsg_len >= CMSG_LEN(1)) {
        out->trafficClass = *CMSG_DATA(c);
#ifdef IP_PKTINFO
      } else if (c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in_pktinfo))) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        out->interfaceIndex = info.ipi_ifindex;
        out->localFamily = AF_INET;
        std::memcpy(out->localAddress, &info.ipi_addr, 4);
#endif
      }
    } else if (c->cmsg_level == IPPROTO_IPV6) {
      if (c->cmsg_type == IPV6_HOPLIMIT) {
        out->hopLimit = IntData(c);
      } else if (c->cmsg_type == IPV6_TCLASS) {
        out->trafficClass = IntData(c);
      } else if (c->cmsg_type == IPV6_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof(in6_pktinfo))) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        out->interfaceIndex = static_cast<int>(info.ipi6_ifindex);
        out->localFamily = AF_INET6;
        std::memcpy(out->localAddress, &info.ipi6_addr, 16);
      }
    }
  }
}

int EnableDropCounts(int fd) {
#ifdef SO_RXQ_OVFL
  return SetFlag(fd, SOL_SOCKET, SO_RXQ_OVFL);
#else
  return 0;  // drops then stay 0
#endif
}

int EnablePacketInfo(int fd, int family) {
  int error;
  if (family == AF_INET) {
#ifdef IP_PKTINFO
    if ((error = SetFlag(fd, IPPROTO_IP, IP_PKTINFO)) != 0) return error;
#endif
    if ((error = SetFlag(fd, IPPROTO_IP, IP_RECVTTL)) != 0) return error;
    return SetFlag(fd, IPPROTO_IP, IP_RECVTOS);
  }
  if ((error = SetFlag(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO)) != 0) return error;
  if ((error = SetFlag(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT)) != 0) return error;
  return SetFlag(fd, IPPROTO_IPV6, IPV6_RECVTCLASS);
}

int EnableTransmitTimestamps(int fd) {
#if defined(__linux__) && defined(SO_TIMESTAMPING)
  const int flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
                    SOF_TIMESTAMPING_OPT_TSONLY;
  return setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) < 0 ? errno : 0;
#else
  return ENOPROTOOPT;
#endif
}

int64_t ReadDropCount(int fd) {
#if defined(__linux__) && defined(SO_MEMINFO)
  uint32_t values[SK_MEMINFO_VARS + 4] = {};
  socklen_t length = sizeof values;
  if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, values, &length) < 0 ||
      length < (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t)) {
    return -1;
  }
  return values[SK_MEMINFO_DROPS];
#else
  return -1;
#endif
}

size_t WriteHeaderFields(int family, int hopLimit, int trafficClass, uint8_t* buffer) {
  if (hopLimit < 0 && trafficClass < 0) return 0;
  std::memset(buffer, 0, kSendControlSize);
  msghdr header{};
  header.msg_control = buffer;
  header.msg_controllen = kSendControlSize;
  cmsghdr* c = CMSG_FIRSTHDR(&header);
  size_t used = 0;
  const int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
  const int types[2] = {family == AF_INET ? IP_TTL : IPV6_HOPLIMIT, family == AF_INET ? IP_TOS : IPV6_TCLASS};
  const int values[2] = {hopLimit, trafficClass};
  for (int i = 0; i < 2; i++) {
    if (values[i] < 0) continue;
    c->cmsg_level = level;
    c->cmsg_type = types[i];
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &values[i], sizeof(int));
    used += CMSG_SPACE(sizeof(int));
    c = reinterpret_cast<cmsghdr*>(reinterpret_cast<uint8_t*>(c) + CMSG_SPACE(sizeof(int)));
  }
  return used;
}

bool IncludesHeader(int fd, int family) {
  int on = 0;
  socklen_t length = sizeof on;
  if (family == AF_INET) return getsockopt(fd, IPPROTO_IP, IP_HDRINCL, &on, &length) == 0 && on != 0;
#ifdef IPV6_HDRINCL
  // Raw IPv6 sockets only; others answer ENOPROTOOPT.
  return getsockopt(fd, IPPROTO_IPV6, IPV6_HDRINCL, &on, &length) == 0 && on != 0;
#else
  return false;
#endif
}

}  // namespace rawsocket
