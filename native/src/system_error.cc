#include "system_error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <time.h>
#ifdef __linux__
#include <linux/errqueue.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace rawsocket {

const char* ErrnoName(int errnum) {
#if defined(__GLIBC__) && ((__GLIBC__ > 2) || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(errnum);
  if (name != nullptr) return name;
#endif
  switch (errnum) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMSGSIZE: return "EMSGSIZE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENODEV: return "ENODEV";
    case ENOTSOCK: return "ENOTSOCK";
    case ECONNREFUSED: return "ECONNREFUSED";
    default: return nullptr;
  }
}

Napi::Error SystemError(Napi::Env env, int errnum, const char* syscall) {
  std::string message = std::string(syscall) + ": " + std::strerror(errnum);
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  const char* name = ErrnoName(errnum);
  object.Set("errno", Napi::Number::New(env, errnum));
  object.Set("code", Napi::String::New(env, name ? name : ("E" + std::to_string(errnum)).c_str()));
  object.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

int EnableErrorQueue(int fd, int family, bool selectErrQueue) {
#ifndef __linux__
  return ENOPROTOOPT;  // the error queue is Linux's
#else
  const int on = 1;
  const int result = family == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on)
                                       : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  if (result < 0) return errno;
#ifdef SO_SELECT_ERR_QUEUE
  if (selectErrQueue && setsockopt(fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE, &on, sizeof on) < 0) return errno;
#endif
  return 0;
#endif
}

int ReadQueuedError(int fd, uint8_t* data, size_t capacity, QueuedError* out) {
#ifndef __linux__
  return 0;
#else
  // Room for the extended error with its offender, a timestamp and a TTL / hop limit.
  alignas(cmsghdr) uint8_t control[512];
  iovec vector{data, capacity};
  msghdr header{};
  header.msg_name = &out->address;
  header.msg_namelen = sizeof out->address;
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  header.msg_control = control;
  header.msg_controllen = sizeof control;
  ssize_t length;
  do {
    length = recvmsg(fd, &header, MSG_ERRQUEUE | MSG_DONTWAIT);
  } while (length < 0 && errno == EINTR);
  if (length < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
  if (header.msg_namelen == 0) out->address.ss_family = AF_UNSPEC;
  out->dataLength = std::min<size_t>(static_cast<size_t>(length), capacity);
  for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
    const bool extended = (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                          (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR);
    if (extended && c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      out->errnum = ee.ee_errno;
      out->origin = ee.ee_origin;
      out->type = ee.ee_type;
      out->code = ee.ee_code;
      out->info = ee.ee_info;
      out->data = ee.ee_data;
      // SO_EE_OFFENDER: the address that follows the structure; the kernel always
      // leaves room for a sockaddr_in (IPv4) or sockaddr_in6 (IPv6) there.
      const size_t room = c->cmsg_len - CMSG_LEN(sizeof ee);
      const uint8_t* after = CMSG_DATA(c) + sizeof ee;
      sa_family_t family = AF_UNSPEC;
      if (room >= sizeof(sa_family_t)) std::memcpy(&family, after, sizeof family);
      if (family == AF_INET && room >= sizeof(sockaddr_in)) {
        std::memcpy(&out->offender, after, sizeof(sockaddr_in));
      } else if (family == AF_INET6 && room >= sizeof(sockaddr_in6)) {
        std::memcpy(&out->offender, after, sizeof(sockaddr_in6));
      } else {
        out->offender.ss_family = AF_UNSPEC;
      }
    } else if (c->cmsg_level == SOL_SOCKET) {
#ifdef SCM_TIMESTAMPNS
      if (c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        out->timestamp = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
        out->hasTimestamp = true;
      }
#endif
#ifdef SCM_TIMESTAMPING
      // SO_TIMESTAMPING: ts[0] is the software timestamp (a transmit timestamp on this queue).
      if (c->cmsg_type == SCM_TIMESTAMPING && !out->hasTimestamp && c->cmsg_len >= CMSG_LEN(sizeof(timespec))) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        out->timestamp = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
        out->hasTimestamp = true;
      }
#endif
      if (c->cmsg_type == SCM_TIMESTAMP) {
        timeval tv;
        std::memcpy(&tv, CMSG_DATA(c), sizeof tv);
        out->timestamp = static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL + static_cast<uint64_t>(tv.tv_usec) * 1000ULL;
        out->hasTimestamp = true;
      }
    }
  }
  return 1;
#endif
}

Napi::String AddressText(Napi::Env env, const sockaddr_storage& address, uint16_t* port) {
  char text[INET6_ADDRSTRLEN] = "";
  *port = 0;
  if (address.ss_family == AF_INET) {
    const sockaddr_in* v4 = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    *port = ntohs(v4->sin_port);
  } else if (address.ss_family == AF_INET6) {
    const sockaddr_in6* v6 = reinterpret_cast<const sockaddr_in6*>(&address);
    inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    *port = ntohs(v6->sin6_port);
  }
  return Napi::String::New(env, text);
}

Napi::Value QueuedErrorValue(Napi::Env env, const QueuedError& error, const uint8_t* data) {
  Napi::Array value = Napi::Array::New(env, 10);
  value.Set(0u, Napi::Number::New(env, error.errnum));
  value.Set(1u, Napi::Number::New(env, error.origin));
  value.Set(2u, Napi::Number::New(env, error.type));
  value.Set(3u, Napi::Number::New(env, error.code));
  value.Set(4u, Napi::Number::New(env, error.info));
  uint16_t ignored = 0;
  if (error.offender.ss_family == AF_INET || error.offender.ss_family == AF_INET6) {
    value.Set(5u, AddressText(env, error.offender, &ignored));
  } else {
    value.Set(5u, env.Null());
  }
  uint16_t port = 0;
  value.Set(6u, AddressText(env, error.address, &port));
  value.Set(7u, Napi::Number::New(env, port));
  value.Set(8u, Napi::Buffer<uint8_t>::Copy(env, data, error.dataLength));
  value.Set(9u, error.hasTimestamp ? Napi::Value(Napi::BigInt::New(env, error.timestamp)) : env.Undefined());
  return value;
}

}  // namespace rawsocket
