// Errors thrown by the addon: TypeError/RangeError for bad arguments, and
// system errors that carry errno, code and syscall like Node's own. Also the
// socket error queue (IP_RECVERR / IPV6_RECVERR): the ICMP errors Linux keeps
// for a socket's own packets, readable without privilege.
#pragma once
#include <napi.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

namespace rawsocket {

// An Error for a failed system call: message "syscall: strerror", plus
// properties errno (positive, as in os.constants.errno), code ('EPERM') and syscall.
Napi::Error SystemError(Napi::Env env, int errnum, const char* syscall);

// The symbolic name of an errno value ("EPERM"), or "E<number>" when unknown.
const char* ErrnoName(int errnum);

// Turns on IP_RECVERR (IPv4) or IPV6_RECVERR (IPv6), and SO_SELECT_ERR_QUEUE where
// the OS has it (poll then reports a queued error as POLLPRI too, which libuv needs
// to tell it from a broken descriptor). Returns 0, or errno.
int EnableErrorQueue(int fd, int family, bool selectErrQueue);

// One entry of a socket's error queue, as recvmsg(MSG_ERRQUEUE) returned it.
struct QueuedError {
  uint32_t errnum = 0;
  uint8_t origin = 0;  // SO_EE_ORIGIN_*
  uint8_t type = 0;
  uint8_t code = 0;
  uint32_t info = 0;
  uint32_t data = 0;  // ee_data: for transmit timestamps (SO_EE_ORIGIN_TIMESTAMPING), the send's OPT_ID sequence
  sockaddr_storage offender{};  // ss_family AF_UNSPEC when there is none (local errors)
  sockaddr_storage address{};   // the original destination of the packet the error is about
  size_t dataLength = 0;        // bytes of the original packet in the caller's buffer
  bool hasTimestamp = false;
  uint64_t timestamp = 0;  // kernel receive time of the ICMP error (or a transmit timestamp), ns since the epoch
};

// Reads one entry (MSG_ERRQUEUE | MSG_DONTWAIT) into *out, its data into
// data[0, capacity). Returns 1 when one was read, 0 when the queue is empty, -errno otherwise.
int ReadQueuedError(int fd, uint8_t* data, size_t capacity, QueuedError* out);

// [errno, origin, icmpType, icmpCode, info, offender|null, address, port, data, timestamp|undefined]:
// what lib/errors.ts turns into an IcmpError. data is copied into a Buffer of its own.
Napi::Value QueuedErrorValue(Napi::Env env, const QueuedError& error, const uint8_t* data);

// An IPv4 or IPv6 address as text (inet_ntop), and its port; "" for other families.
Napi::String AddressText(Napi::Env env, const sockaddr_storage& address, uint16_t* port);

}  // namespace rawsocket
