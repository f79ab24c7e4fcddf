#include "raw_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/icmp.h>
#endif

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "addon_data.h"
#include "arguments.h"
#include "checksum.h"
#include "system_error.h"

namespace rawsocket {

namespace {

// Control space per datagram: a receive timestamp (32 bytes) and a TTL or hop limit (24).
constexpr size_t kControlSize = 64;
// Bounds the work of one wake-up so a flood cannot starve the rest of the loop;
// level-triggered polling brings us back for the remainder.
constexpr uint32_t kMaxMessagesPerWakeup = 4096;
constexpr size_t kMaxReceiveBatch = 64;
constexpr size_t kSendChunk = 64;
// Error-queue entries read per wake-up (the rest wait for the next one).
constexpr uint32_t kMaxErrorsPerWakeup = 256;
// Receives per read that may fail with a queued error's errno before the read gives up.
constexpr uint32_t kMaxSocketErrorsPerRead = 8;
// POLLERR wake-ups in a row with nothing on the error queue before the socket reports an error.
constexpr uint32_t kMaxFruitlessPollErrors = 16;
// A send result meaning: the request's buffer, offset or length is no longer valid.
constexpr int32_t kInvalidRequest = INT32_MIN;

enum Mode { kModeAuto = 0, kModeRaw = 1, kModeDatagram = 2 };

int OpenSocket(int family, int type, int protocol) {
#ifdef SOCK_NONBLOCK
  return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
#else
  int fd = socket(family, type, protocol);
  if (fd >= 0) {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  return fd;
#endif
}

uint64_t RealtimeNanoseconds() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
}

// The TTL (IPv4) or hop limit (IPv6) the datagram arrived with, from IP_RECVTTL /
// IPV6_RECVHOPLIMIT; -1 when the kernel attached none.
int ReceiveTtl(msghdr* header) {
  for (cmsghdr* c = CMSG_FIRSTHDR(header); c != nullptr; c = CMSG_NXTHDR(header, c)) {
    if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
        (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
      int value;
      std::memcpy(&value, CMSG_DATA(c), sizeof value);
      return value;
    }
  }
  return -1;
}

bool ReceiveTimestamp(msghdr* header, uint64_t* nanoseconds) {
  for (cmsghdr* c = CMSG_FIRSTHDR(header); c != nullptr; c = CMSG_NXTHDR(header, c)) {
    if (c->cmsg_level != SOL_SOCKET) continue;
#ifdef SCM_TIMESTAMPNS
    if (c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *nanoseconds = static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + ts.tv_nsec;
      return true;
    }
#endif
    if (c->cmsg_type == SCM_TIMESTAMP) {
      timeval tv;
      std::memcpy(&tv, CMSG_DATA(c), sizeof tv);
      *nanoseconds = static_cast<uint64_t>(tv.tv_sec) * 1000000000ULL + tv.tv_usec * 1000ULL;
      return true;
    }
  }
  return false;
}

Napi::Function HandlerProperty(Napi::Env env, Napi::Object handlers, const char* name) {
  Napi::Value value = handlers.Get(name);
  if (!value.IsFunction()) {
    throw Napi::TypeError::New(env, std::string("handlers.") + name + " must be a function");
  }
  return value.As<Napi::Function>();
}

}  // namespace

Descriptor::~Descriptor() {
  if (fd >= 0) ::close(fd);
}

// Sends prepared messages in order (sendmmsg in chunks where the OS has it) and
// writes each one's bytes sent, or -errno, to results[slot]. Returns the slot of
// the first message that would block, or kAllSent when every message went out.
constexpr uint32_t kAllSent = UINT32_MAX;

// retryFailures: with IP_RECVERR on, an ICMP error about an earlier packet also leaves
// its errno in the socket (sk_err), and the next send fails once with it although
// nothing is wrong with that message: a failed message is tried once more (a pending
// error is consumed by the first failure; a genuine failure repeats).
uint32_t SendPrepared(int fd, std::vector<PreparedSend>& sends, int32_t* results, bool retryFailures) {
  size_t sent = 0;
  bool retried = false;  // the message at `sent` failed once already
  while (sent < sends.size()) {
#ifdef __linux__
    const size_t chunk = std::min(kSendChunk, sends.size() - sent);
    mmsghdr messages[kSendChunk];
    iovec vectors[kSendChunk];
    for (size_t k = 0; k < chunk; k++) {
      PreparedSend& send = sends[sent + k];
      vectors[k] = iovec{send.data, send.length};
      std::memset(&messages[k], 0, sizeof(mmsghdr));
      messages[k].msg_hdr.msg_name = &send.address;
      messages[k].msg_hdr.msg_namelen = send.addressLength;
      messages[k].msg_hdr.msg_iov = &vectors[k];
      messages[k].msg_hdr.msg_iovlen = 1;
    }
    int done = sendmmsg(fd, messages, static_cast<unsigned int>(chunk), 0);
    if (done > 0) {
      for (int k = 0; k < done; k++) results[sends[sent + k].slot] = static_cast<int32_t>(messages[k].msg_len);
      sent += static_cast<size_t>(done);
      retried = false;
      continue;
    }
#else
    PreparedSend& one = sends[sent];
    ssize_t done = sendto(fd, one.data, one.length, 0, reinterpret_cast<sockaddr*>(&one.address), one.addressLength);
    if (done >= 0) {
      results[one.slot] = static_cast<int32_t>(done);
      sent++;
      retried = false;
      continue;
    }
#endif
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return sends[sent].slot;
    if (retryFailures && !retried) {
      retried = true;
      continue;
    }
    results[sends[sent].slot] = -errno;
    sent++;
    retried = false;
  }
  return kAllSent;
}

// Sends a prepared batch on the thread pool, so a flood's kernel work (on
// loopback: delivering copies and generating replies) runs beside the JS thread
// that receives. The bytes are copied first: the caller's buffers may change.
class SendWork : public Napi::AsyncWorker {
 public:
  SendWork(RawSocket* socket, std::vector<PreparedSend> sends, Napi::Int32Array results, uint32_t count,
           Napi::Function callback)
      : Napi::AsyncWorker(callback, "RawSocket.send"),
        socket_(socket),
        descriptor_(socket->descriptor_),
        retryFailures_(socket->receiveErrors_),
        sends_(std::move(sends)),
        count_(count),
        results_(Napi::Persistent(results)),
        values_(count, 0) {
    size_t total = 0;
    for (const PreparedSend& send : sends_) total += send.length;
    bytes_.resize(total);
    size_t offset = 0;
    for (PreparedSend& send : sends_) {
      std::memcpy(bytes_.data() + offset, send.data, send.length);
      send.data = bytes_.data() + offset;
      offset += send.length;
    }
    int32_t* initial = results.Data();
    for (uint32_t i = 0; i < count; i++) values_[i] = initial[i];
    socket_->Ref();
  }

  void Execute() override {
    sentAt_ = RealtimeNanoseconds();
    const uint32_t blocked = SendPrepared(descriptor_->fd, sends_, values_.data(), retryFailures_);
    processed_ = blocked == kAllSent ? count_ : blocked;
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::Int32Array results = results_.Value();
    const uint32_t writable = std::min<uint32_t>(count_, static_cast<uint32_t>(results.ElementLength()));
    for (uint32_t i = 0; i < writable; i++) results[i] = values_[i];
    try {
      Callback().Call({Napi::Number::New(env, processed_), Napi::BigInt::New(env, sentAt_)});
    } catch (...) {
      socket_->Unref();  // a throwing callback must not keep the socket alive forever
      throw;
    }
    socket_->Unref();
  }

 private:
  RawSocket* socket_;
  std::shared_ptr<Descriptor> descriptor_;
  bool retryFailures_;
  std::vector<PreparedSend> sends_;
  std::vector<uint8_t> bytes_;
  uint32_t count_;
  Napi::Reference<Napi::Int32Array> results_;
  std::vector<int32_t> values_;
  uint32_t processed_ = 0;
  uint64_t sentAt_ = 0;
};

Napi::Function RawSocket::Define(Napi::Env env) {
  return DefineClass(env, "RawSocket",
                     {
                         InstanceMethod<&RawSocket::SendBatch>("sendBatch"),
                         InstanceMethod<&RawSocket::SendBatchAsync>("sendBatchAsync"),
                         InstanceMethod<&RawSocket::ReceiveNow>("receiveNow"),
                         InstanceMethod<&RawSocket::SetWatch>("setWatch"),
                         InstanceMethod<&RawSocket::SetChecksum>("setChecksum"),
                         InstanceMethod<&RawSocket::SetIcmpFilter>("setIcmpFilter"),
                         InstanceMethod<&RawSocket::GetOption>("getOption"),
                         InstanceMethod<&RawSocket::SetOption>("setOption"),
                         InstanceMethod<&RawSocket::Close>("close"),
                         InstanceMethod<&RawSocket::SetRef>("setRef"),
                         InstanceMethod<&RawSocket::IsDatagram>("isDatagram"),
                         InstanceMethod<&RawSocket::Describe>("describe"),
                         InstanceMethod<&RawSocket::GetDescriptor>("descriptor"),
                         InstanceMethod<&RawSocket::DrainErrors>("drainErrors"),
                     });
}

RawSocket::RawSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSocket>(info) {
  Napi::Env env = info.Env();
  // 0 and -1: "whatever the adopted descriptor is" (only with options.descriptor).
  const int64_t family = IntegerArgument(info, 0, "addressFamily", 0, 2);
  const int64_t protocol = IntegerArgument(info, 1, "protocol", -1, 255);
  if (!info[2].IsObject()) throw Napi::TypeError::New(env, "The \"options\" argument must be an object");
  if (!info[3].IsObject()) throw Napi::TypeError::New(env, "The \"handlers\" argument must be an object");
  Napi::Object options = info[2].As<Napi::Object>();
  Napi::Object handlers = info[3].As<Napi::Object>();

  bufferSize_ = static_cast<size_t>(IntegerValue(env, options.Get("bufferSize"), "bufferSize", 1, 1 << 20));
  const int64_t mode = IntegerValue(env, options.Get("mode"), "mode", kModeAuto, kModeDatagram);
  Napi::Value timestamps = options.Get("timestamps");
  if (!timestamps.IsBoolean()) throw Napi::TypeError::New(env, "The \"timestamps\" option must be a boolean");
  timestamps_ = timestamps.As<Napi::Boolean>().Value();
  Napi::Value receiveTtl = options.Get("receiveTtl");
  if (!receiveTtl.IsBoolean()) throw Napi::TypeError::New(env, "The \"receiveTtl\" option must be a boolean");
  receiveTtl_ = receiveTtl.As<Napi::Boolean>().Value();
  Napi::Value receiveErrors = options.Get("receiveErrors");
  if (!receiveErrors.IsBoolean()) throw Napi::TypeError::New(env, "The \"receiveErrors\" option must be a boolean");
  receiveErrors_ = receiveErrors.As<Napi::Boolean>().Value();
  Napi::Value descriptorValue = options.Get("descriptor");
  const bool adopt = !descriptorValue.IsUndefined();
  const int adopted = adopt ? static_cast<int>(IntegerValue(env, descriptorValue, "descriptor", 0, INT32_MAX)) : -1;
  if (!adopt && (family == 0 || protocol < 0)) {
    throw Napi::RangeError::New(env, "addressFamily 0 and protocol -1 (the descriptor's) need the \"descriptor\" option");
  }
  Napi::Function onMessages = HandlerProperty(env, handlers, "onMessages");
  Napi::Function onWritable = HandlerProperty(env, handlers, "onWritable");
  Napi::Function onError = HandlerProperty(env, handlers, "onError");
  Napi::Function onClose = HandlerProperty(env, handlers, "onClose");
  Napi::Function onIcmpErrors = HandlerProperty(env, handlers, "onIcmpErrors");

  int fd;
  if (adopt) {
    fd = adopted;
    InspectDescriptor(env, fd, family, protocol, mode);
  } else {
    family_ = family == 1 ? AF_INET : AF_INET6;
    protocol_ = static_cast<int>(protocol);
    const bool icmp = (family_ == AF_INET && protocol == IPPROTO_ICMP) ||
                      (family_ == AF_INET6 && protocol == IPPROTO_ICMPV6);
    const bool udp = protocol == IPPROTO_UDP;
    if (mode == kModeDatagram && !icmp && !udp) {
      throw Napi::RangeError::New(env,
                                  "datagram mode exists only for ICMP over IPv4, ICMPv6 over IPv6 (ping sockets) "
                                  "and UDP over either (Protocol.UDP)");
    }
    if (mode == kModeDatagram) {
      fd = OpenSocket(family_, SOCK_DGRAM, static_cast<int>(protocol));
      if (fd < 0) throw SystemError(env, errno, "socket");
      datagram_ = true;
      udp_ = udp;
    } else {
      fd = OpenSocket(family_, SOCK_RAW, static_cast<int>(protocol));
      if (fd < 0) {
        const int rawErrno = errno;
        // Like raw-socket on macOS: a refused raw ICMP socket falls back to the
        // unprivileged ICMP datagram ("ping") socket where the OS allows one.
        if (mode == kModeAuto && icmp && (rawErrno == EPERM || rawErrno == EACCES)) {
          fd = OpenSocket(family_, SOCK_DGRAM, static_cast<int>(protocol));
          if (fd < 0) {
            const int datagramErrno = errno;
            Napi::Error error = SystemError(env, rawErrno, "socket");
            error.Value().Set("datagramErrno", Napi::Number::New(env, datagramErrno));
            throw error;
          }
          datagram_ = true;
        } else {
          throw SystemError(env, rawErrno, "socket");
        }
      }
    }
  }
  // From here the descriptor closes itself, whichever way this constructor ends;
  // an adopted one that fails is given back (its owner is still the caller).
  descriptor_ = std::make_shared<Descriptor>(fd);
  try {
    Setup(env, adopt);
  } catch (...) {
    if (adopt) descriptor_->Release();
    throw;
  }

  poll_->data = this;
  onMessages_ = Napi::Persistent(onMessages);
  onWritable_ = Napi::Persistent(onWritable);
  onError_ = Napi::Persistent(onError);
  onClose_ = Napi::Persistent(onClose);
  onIcmpErrors_ = Napi::Persistent(onIcmpErrors);
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "RawSocket", info.This().As<Napi::Object>());
  napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, this, &cleanupHook_);
  // An open socket is reachable from the loop, so garbage collection never closes it;
  // the reference is dropped when the handle is closed.
  Ref();
}

// Socket options, receive storage and the poll watcher: the part of construction
// that may fail after the descriptor exists.
void RawSocket::Setup(Napi::Env env, bool adopted) {
  const int fd = Fd();
  if (adopted) {
    // Whoever opened it may have left it blocking, or inheritable by child processes.
    const int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw SystemError(env, errno, "fcntl");
    const int fdFlags = fcntl(fd, F_GETFD);
    if (fdFlags < 0 || fcntl(fd, F_SETFD, fdFlags | FD_CLOEXEC) < 0) throw SystemError(env, errno, "fcntl");
  }

  if (timestamps_) {
    const int on = 1;
#ifdef SO_TIMESTAMPNS
    const int option = SO_TIMESTAMPNS;
#else
    const int option = SO_TIMESTAMP;
#endif
    if (setsockopt(fd, SOL_SOCKET, option, &on, sizeof on) < 0) throw SystemError(env, errno, "setsockopt");
  }

  if (receiveTtl_) {
    const int on = 1;
    const int result = family_ == AF_INET ? setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on)
                                          : setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    if (result < 0) throw SystemError(env, errno, "setsockopt");
  }

  if (receiveErrors_) {
    const int error = EnableErrorQueue(fd, family_, true);
    if (error != 0) throw SystemError(env, error, "setsockopt");
  }

  batchSize_ = 1;
#ifdef __linux__
  batchSize_ = std::max<size_t>(1, std::min<size_t>(kMaxReceiveBatch, (1u << 20) / bufferSize_));
#endif
  receiveBuffers_.resize(batchSize_ * bufferSize_);
  receiveAddresses_.resize(batchSize_);
  const bool control = timestamps_ || receiveTtl_;
  if (control) receiveControl_.resize(batchSize_ * kControlSize);
  // The receive headers point into the storage above once and for all; each read
  // only resets the lengths the kernel overwrites.
  receiveVectors_.resize(batchSize_);
  messages_.resize(batchSize_);
  for (size_t i = 0; i < batchSize_; i++) {
    receiveVectors_[i] = iovec{receiveBuffers_.data() + i * bufferSize_, bufferSize_};
    msghdr& h = messages_[i].msg_hdr;
    std::memset(&messages_[i], 0, sizeof messages_[i]);
    h.msg_name = &receiveAddresses_[i];
    h.msg_iov = &receiveVectors_[i];
    h.msg_iovlen = 1;
    if (control) h.msg_control = receiveControl_.data() + i * kControlSize;
  }

  uv_loop_t* loop = nullptr;
  napi_status status = napi_get_uv_event_loop(env, &loop);
  poll_ = new uv_poll_t;
  int pollError = status == napi_ok ? uv_poll_init(loop, poll_, fd) : UV_EINVAL;
  if (pollError != 0) {
    delete poll_;
    poll_ = nullptr;
    throw SystemError(env, -pollError, "uv_poll_init");
  }
  poll_->data = nullptr;
}

void RawSocket::InspectDescriptor(Napi::Env env, int fd, int64_t family, int64_t protocol, int64_t mode) {
  const std::string which = "descriptor " + std::to_string(fd);
  int type = 0;
  socklen_t length = sizeof type;
  // Fails with EBADF for a closed descriptor and ENOTSOCK for a file or a pipe.
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) < 0) throw SystemError(env, errno, "getsockopt");
  int domain = AF_UNSPEC;
#ifdef SO_DOMAIN
  length = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length) < 0) throw SystemError(env, errno, "getsockopt");
#else
  sockaddr_storage local{};
  length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) < 0) throw SystemError(env, errno, "getsockname");
  domain = local.ss_family;
#endif
  int actual = -1;
#ifdef SO_PROTOCOL
  length = sizeof actual;
  if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &actual, &length) < 0) throw SystemError(env, errno, "getsockopt");
#else
  if (protocol < 0) throw Napi::RangeError::New(env, "This OS cannot tell a socket's protocol: give the \"protocol\" option");
  actual = static_cast<int>(protocol);
#endif
  if (domain != AF_INET && domain != AF_INET6) {
    throw Napi::RangeError::New(env, which + " is not an IPv4 or IPv6 socket (address family " + std::to_string(domain) + ")");
  }
  if (type != SOCK_RAW && type != SOCK_DGRAM) {
    throw Napi::RangeError::New(env, which + (type == SOCK_STREAM ? " is a SOCK_STREAM (TCP) socket" : " is a socket of type " + std::to_string(type)) +
                                         ": only raw (SOCK_RAW) and datagram (SOCK_DGRAM) sockets can be adopted");
  }
  const bool icmp = (domain == AF_INET && actual == IPPROTO_ICMP) || (domain == AF_INET6 && actual == IPPROTO_ICMPV6);
  if (type == SOCK_DGRAM && !icmp && actual != IPPROTO_UDP) {
    throw Napi::RangeError::New(env, which + " is a datagram socket of protocol " + std::to_string(actual) +
                                         ": only ICMP/ICMPv6 (ping) and UDP datagram sockets can be adopted");
  }
  const int64_t domainFamily = domain == AF_INET ? 1 : 2;
  if (family != 0 && family != domainFamily) {
    throw Napi::RangeError::New(env, "The \"addressFamily\" option (" + std::to_string(family) + ") does not match " + which +
                                         ", an " + (domain == AF_INET ? "IPv4 (1)" : "IPv6 (2)") + " socket");
  }
  if (protocol >= 0 && protocol != actual) {
    throw Napi::RangeError::New(env, "The \"protocol\" option (" + std::to_string(protocol) + ") does not match " + which +
                                         "'s protocol (" + std::to_string(actual) + ")");
  }
  if ((mode == kModeRaw && type != SOCK_RAW) || (mode == kModeDatagram && type != SOCK_DGRAM)) {
    throw Napi::RangeError::New(env, std::string("The \"mode\" option ('") + (mode == kModeRaw ? "raw" : "datagram") +
                                         "') does not match " + which + ", a " +
                                         (type == SOCK_RAW ? "SOCK_RAW" : "SOCK_DGRAM") + " socket");
  }
  family_ = domain;
  protocol_ = actual;
  datagram_ = type == SOCK_DGRAM;
  udp_ = datagram_ && actual == IPPROTO_UDP;
}

RawSocket::~RawSocket() {
  // Only reached after close (we hold a strong reference until then), or while
  // the environment is torn down; never leave a handle behind on the loop.
  if (poll_ != nullptr && !closing_) {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
    poll_ = nullptr;
  }
  descriptor_.reset();
}

void RawSocket::CheckOpen(Napi::Env env, const char* what) const {
  if (!descriptor_ || closing_) {
    Napi::Error error = Napi::Error::New(env, std::string("Cannot ") + what + ": the socket is closed");
    error.Value().Set("code", Napi::String::New(env, "ERR_SOCKET_CLOSED"));
    throw error;
  }
}

// The cache holds addresses without a port; the port goes into the copy returned.
static void SetPort(sockaddr_storage* address, uint16_t port) {
  if (address->ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(address)->sin_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in6*>(address)->sin6_port = htons(port);
  }
}

bool RawSocket::ParseAddress(Napi::Env env, Napi::Value value, uint16_t port, sockaddr_storage* out,
                             socklen_t* outLength) {
  if (!value.IsString()) throw Napi::TypeError::New(env, "The \"address\" must be a string");
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t length = 0;
  napi_get_value_string_utf8(env, value, text, sizeof text, &length);
  // Too long, or with a NUL inside (inet_pton would read only what comes before it).
  if (length + 1 >= sizeof text || std::strlen(text) != length) return false;
  if (lastAddressLength_ != 0 && lastAddressText_ == text) {
    *out = lastAddress_;
    *outLength = lastAddressLength_;
    if (port != 0) SetPort(out, port);
    return true;
  }
  sockaddr_storage parsed{};
  socklen_t parsedLength = 0;
  if (family_ == AF_INET) {
    sockaddr_in* address = reinterpret_cast<sockaddr_in*>(&parsed);
    address->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &address->sin_addr) != 1) return false;
    parsedLength = sizeof(sockaddr_in);
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
    parsedLength = sizeof(sockaddr_in6);
  }
  lastAddressText_ = text;
  lastAddress_ = parsed;
  lastAddressLength_ = parsedLength;
  *out = parsed;
  *outLength = parsedLength;
  if (port != 0) SetPort(out, port);
  return true;
}

std::vector<PreparedSend> RawSocket::PrepareSends(const Napi::CallbackInfo& info, Napi::Int32Array* results) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw Napi::TypeError::New(env, "The \"requests\" argument must be an array");
  Napi::Array requests = info[0].As<Napi::Array>();
  const int64_t total = requests.Length();
  const int64_t start = IntegerArgument(info, 1, "start", 0, total);
  const int64_t count = IntegerArgument(info, 2, "count", 0, total - start);
  Napi::Array keys = env.GetInstanceData<AddonData>()->sendRequestKeys.Value();
  const Napi::Value bufferKey = keys.Get(0u), offsetKey = keys.Get(1u), lengthKey = keys.Get(2u),
                    addressKey = keys.Get(3u), portKey = keys.Get(4u);
  // First read every request's fields (property reads may run JS: getters, proxies),
  // then take pointers into the buffers with no JS in between, so nothing can detach
  // or replace a buffer between its pointer being taken and its bytes being sent.
  struct Fields {
    Napi::Value buffer, offset, length, address, port;
  };
  std::vector<Fields> fields;
  fields.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; i++) {
    Napi::Value item = requests.Get(static_cast<uint32_t>(start + i));
    if (!item.IsObject()) throw Napi::TypeError::New(env, "Each send request must be an object");
    Napi::Object request = item.As<Napi::Object>();
    // Only a UDP socket reads the port (a property read per request costs as much as a
    // small send's checks); on any other the destination never carries one.
    fields.push_back(Fields{request.Get(bufferKey), request.Get(offsetKey), request.Get(lengthKey), request.Get(addressKey),
                            udp_ ? request.Get(portKey) : Napi::Value()});
  }
  CheckOpen(env, "send");  // a getter may have closed the socket...
  // ...or detached the results array: take its pointer only now.
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      static_cast<int64_t>(info[3].As<Napi::TypedArray>().ElementLength()) < count) {
    throw Napi::TypeError::New(env, "The \"results\" argument must be an Int32Array of at least count elements");
  }
  *results = info[3].As<Napi::Int32Array>();
  std::vector<PreparedSend> sends;
  sends.reserve(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; i++) {
    const uint32_t slot = static_cast<uint32_t>(i);
    const Fields& f = fields[static_cast<size_t>(i)];
    // The JS layer checked each request when it was queued; a buffer detached or
    // changed since then fails alone, without failing the rest of its batch.
    if (!f.buffer.IsTypedArray() || f.buffer.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array ||
        !f.offset.IsNumber() || !f.length.IsNumber()) {
      (*results)[slot] = kInvalidRequest;
      continue;
    }
    Napi::Uint8Array bytes = f.buffer.As<Napi::Uint8Array>();
    const double size = static_cast<double>(bytes.ByteLength());
    const double offset = f.offset.As<Napi::Number>().DoubleValue();
    const double length = f.length.As<Napi::Number>().DoubleValue();
    if (!(offset >= 0) || !(length >= 0) || std::floor(offset) != offset || std::floor(length) != length ||
        offset + length > size) {
      (*results)[slot] = kInvalidRequest;
      continue;
    }
    // The destination port: required (1-65535) on a UDP socket, never read on any other.
    uint32_t port = 0;
    if (udp_) {
      const double value = f.port.IsNumber() ? f.port.As<Napi::Number>().DoubleValue() : -1;
      if (!(value >= 1 && value <= 65535) || std::floor(value) != value) {
        (*results)[slot] = -EINVAL;
        continue;
      }
      port = static_cast<uint32_t>(value);
    }
    PreparedSend send;
    if (!ParseAddress(env, f.address, static_cast<uint16_t>(port), &send.address, &send.addressLength)) {
      (*results)[slot] = -EINVAL;
      continue;
    }
    send.data = bytes.Data() + static_cast<size_t>(offset);
    send.length = static_cast<size_t>(length);
    send.slot = slot;
    if (checksums_ && checksumOffset_ + 2 <= send.length) {
      send.data[checksumOffset_] = 0;
      send.data[checksumOffset_ + 1] = 0;
      const uint16_t sum = static_cast<uint16_t>(~OnesComplementSum(send.data, send.length));
      send.data[checksumOffset_] = static_cast<uint8_t>(sum >> 8);
      send.data[checksumOffset_ + 1] = static_cast<uint8_t>(sum & 0xff);
    }
    sends.push_back(send);
  }
  return sends;
}

// sendBatch(requests, start, count, results: Int32Array, sentAt?: BigInt64Array) -> processed
// Sends requests[start .. start+count) in order, each {buffer, offset, length, address};
// results[i] gets the bytes sent or -errno. Stops early, returning how many were
// processed, when the socket would block: the caller waits for writability.
Napi::Value RawSocket::SendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "send");
  Napi::Int32Array results;
  std::vector<PreparedSend> sends = PrepareSends(info, &results);
  const int64_t count = info[2].As<Napi::Number>().Int64Value();
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    if (!info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array ||
        info[4].As<Napi::TypedArray>().ElementLength() < 1) {
      throw Napi::TypeError::New(env, "The \"sentAt\" argument must be a BigInt64Array");
    }
    void* data = nullptr;
    napi_get_typedarray_info(env, info[4], nullptr, nullptr, &data, nullptr, nullptr);
    static_cast<int64_t*>(data)[0] = static_cast<int64_t>(RealtimeNanoseconds());
  }

  const uint32_t blocked = SendPrepared(Fd(), sends, results.Data(), receiveErrors_);
  // Everything before a blocked message is done; it and the rest wait for writability.
  if (blocked != kAllSent) return Napi::Number::New(env, blocked);
  return Napi::Number::New(env, static_cast<double>(count));
}

// sendBatchAsync(requests, start, count, results, callback(processed, sentAt)):
// sendBatch on the thread pool. One batch at a time keeps requests in order.
Napi::Value RawSocket::SendBatchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "send");
  if (!info[4].IsFunction()) throw Napi::TypeError::New(env, "The \"callback\" argument must be a function");
  Napi::Int32Array results;
  std::vector<PreparedSend> sends = PrepareSends(info, &results);
  const uint32_t count = info[2].As<Napi::Number>().Uint32Value();
  SendWork* work = new SendWork(this, std::move(sends), results, count, info[4].As<Napi::Function>());
  work->Queue();
  return env.Undefined();
}

Napi::Value RawSocket::ReceiveNow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!descriptor_ || closing_) return env.Undefined();
  int error = 0;
  // Errors are left for the poll watcher to report.
  return ReadBatch(env, &error);
}

Napi::Value RawSocket::SetWatch(const Napi::CallbackInfo& info) {
  const bool readable = BooleanArgument(info, 0, "readable");
  const bool writable = BooleanArgument(info, 1, "writable");
  // Pausing a closed socket is harmless (raw-socket 1.6.4 made it so).
  if (poll_ == nullptr || closing_) return info.Env().Undefined();
  const int events = PollEvents((readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0));
  if (events == watchedEvents_) return info.Env().Undefined();
  int error = events == 0 ? uv_poll_stop(poll_) : uv_poll_start(poll_, events, OnPoll);
  if (error != 0) throw SystemError(info.Env(), -error, "uv_poll_start");
  watchedEvents_ = events;
  return info.Env().Undefined();
}

// With the error queue on, a queued error makes poll report POLLERR, and libuv stops
// a watcher that sees POLLERR without POLLPRI (uv__poll_io reports it as UV_EBADF).
// SO_SELECT_ERR_QUEUE adds POLLPRI, which libuv passes on only when UV_PRIORITIZED
// is watched: so it always is, whenever anything is.
int RawSocket::PollEvents(int events) const {
  return receiveErrors_ && events != 0 ? events | UV_PRIORITIZED : events;
}

Napi::Value RawSocket::SetChecksum(const Napi::CallbackInfo& info) {
  checksums_ = BooleanArgument(info, 0, "generate");
  checksumOffset_ = static_cast<size_t>(IntegerArgument(info, 1, "offset", 0, 65533));
  return info.Env().Undefined();
}

// setIcmpFilter(types: number[] | null): only these ICMP (IPv4, types 0-31) or
// ICMPv6 types reach the socket; null lets every type through.
Napi::Value RawSocket::SetIcmpFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env, "set an ICMP filter");
  const bool all = info[0].IsNull() || info[0].IsUndefined();
  if (!all && !info[0].IsArray()) throw Napi::TypeError::New(env, "The \"types\" argument must be an array or null");
  Napi::Array types = all ? Napi::Array::New(env) : info[0].As<Napi::Array>();
  if (family_ == AF_INET) {
#ifdef ICMP_FILTER
    uint32_t pass = 0;
    for (uint32_t i = 0; i < types.Length(); i++) {
      pass |= 1u << IntegerValue(env, types.Get(i), "ICMP type", 0, 31);
    }
    icmp_filter filter{all ? 0u : ~pass};
    if (setsockopt(Fd(), SOL_RAW, ICMP_FILTER, &filter, sizeof filter) < 0) throw SystemError(env, errno, "setsockopt");
#else
    throw SystemError(env, ENOPROTOOPT, "setsockopt");
#endif
  } else {
    icmp6_filter filter;
    if (all) {
      ICMP6_FILTER_SETPASSALL(&filter);
    } else {
      ICMP6_FILTER_SETBLOCKALL(&filter);
      for (uint32_t i = 0; i < types.Length(); i++) {
        ICMP6_FILTER_SETPASS(IntegerValue(env, types.Get(i), "ICMPv6 type", 0, 255), &filter);
      }
    }
    if (setsockopt(Fd(), IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) < 0) {
      throw SystemError(env, errno, "setsockopt");
    }
  }
  return env.Undefined();
}

Napi::Value RawSocket::GetOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int level = static_cast<int>(IntegerArgument(info, 0, "level", INT32_MIN, INT32_MAX));
  const int option = static_cast<int>(IntegerArgument(info, 1, "option", INT32_MIN, INT32_MAX));
  Napi::Uint8Array buffer = Uint8ArrayValue(env, info[2], "buffer");
  socklen_t length = static_cast<socklen_t>(IntegerArgument(info, 3, "length", 0, buffer.ByteLength()));
  CheckOpen(env, "get an option");
  if (getsockopt(Fd(), level, option, buffer.Data(), &length) < 0) throw SystemError(env, errno, "getsockopt");
  return Napi::Number::New(env, length);
}

Napi::Value RawSocket::SetOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int level = static_cast<int>(IntegerArgument(info, 0, "level", INT32_MIN, INT32_MAX));
  const int option = static_cast<int>(IntegerArgument(info, 1, "option", INT32_MIN, INT32_MAX));
  int result;
  if (info.Length() >= 4 && !info[3].IsUndefined()) {
    Napi::Uint8Array buffer = Uint8ArrayValue(env, info[2], "buffer");
    socklen_t length = static_cast<socklen_t>(IntegerArgument(info, 3, "length", 0, buffer.ByteLength()));
    CheckOpen(env, "set an option");
    result = setsockopt(Fd(), level, option, buffer.Data(), length);
  } else {
    // The three-argument form: a 32-bit unsigned value (negative ones are accepted
    // as their two's complement, e.g. -1 to restore IPV6_UNICAST_HOPS' default).
    const int64_t value = IntegerArgument(info, 2, "value", INT32_MIN, UINT32_MAX);
    const int native = static_cast<int>(static_cast<uint32_t>(value));
    CheckOpen(env, "set an option");
    result = setsockopt(Fd(), level, option, &native, sizeof native);
  }
  if (result < 0) throw SystemError(env, errno, "setsockopt");
  return env.Undefined();
}

Napi::Value RawSocket::SetRef(const Napi::CallbackInfo& info) {
  const bool ref = BooleanArgument(info, 0, "ref");
  if (poll_ != nullptr && !closing_) {
    if (ref) {
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    } else {
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
    }
  }
  return info.Env().Undefined();
}

Napi::Value RawSocket::IsDatagram(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), datagram_);
}

// describe() -> [addressFamily 1|2, protocol, datagram]: what an adopted descriptor turned out to be.
Napi::Value RawSocket::Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array value = Napi::Array::New(env, 3);
  value.Set(0u, Napi::Number::New(env, family_ == AF_INET ? 1 : 2));
  value.Set(1u, Napi::Number::New(env, protocol_));
  value.Set(2u, Napi::Boolean::New(env, datagram_));
  return value;
}

// descriptor() -> the socket's descriptor number, or -1 once closed.
Napi::Value RawSocket::GetDescriptor(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), descriptor_ && !closing_ ? descriptor_->fd : -1);
}

// drainErrors() -> what the error queue holds now (see ReadErrors), or undefined.
// The JS layer calls it before each send batch: the queued errors' pending errno
// (sk_err) would otherwise fail that send.
Napi::Value RawSocket::DrainErrors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!receiveErrors_ || !descriptor_ || closing_) return env.Undefined();
  uint32_t read = 0;
  return ReadErrors(env, &read);
}

Napi::Value RawSocket::ReadErrors(Napi::Env env, uint32_t* read) {
  *read = 0;
  if (errorData_.empty()) errorData_.resize(bufferSize_);
  Napi::Array errors;
  while (*read < kMaxErrorsPerWakeup) {
    QueuedError error;
    const int result = ReadQueuedError(Fd(), errorData_.data(), errorData_.size(), &error);
    if (result <= 0) break;
    if (*read == 0) errors = Napi::Array::New(env);
    errors.Set((*read)++, QueuedErrorValue(env, error, errorData_.data()));
  }
  if (*read == 0) return env.Undefined();
  fruitlessPollErrors_ = 0;
  return errors;
}

void RawSocket::OnErrorQueue(bool prioritized) {
  errorQueueFlagged_ = false;
  Napi::Env env = Env();
  uint32_t read = 0;
  Napi::Value errors = ReadErrors(env, &read);
  if (read == 0 && prioritized) {
    // POLLPRI with an empty queue: only the pending errno (sk_err) is left, e.g. one
    // whose queue entry did not fit the receive buffer. Reading it clears it, or
    // poll would report it forever.
    int pending = 0;
    socklen_t length = sizeof pending;
    getsockopt(Fd(), SOL_SOCKET, SO_ERROR, &pending, &length);
  }
  if (read > 0) Notify(onIcmpErrors_, {errors});
}

bool RawSocket::RecoverFromPollError() {
  // Bounded: a descriptor that keeps reporting POLLERR without anything queued is broken.
  if (++fruitlessPollErrors_ > kMaxFruitlessPollErrors) return false;
  Napi::Env env = Env();
  uint32_t read = 0;
  Napi::Value errors = ReadErrors(env, &read);
  int pending = 0;
  socklen_t length = sizeof pending;
  getsockopt(Fd(), SOL_SOCKET, SO_ERROR, &pending, &length);
  // libuv stopped the watcher: start it again before any JS runs (which may change it).
  if (watchedEvents_ != 0 && uv_poll_start(poll_, watchedEvents_, OnPoll) != 0) return false;
  if (read > 0) Notify(onIcmpErrors_, {errors});
  return true;
}

Napi::Value RawSocket::Close(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr && !closing_) StartClose(true);
  return info.Env().Undefined();
}

void RawSocket::StartClose(bool notify) {
  closing_ = true;
  notifyClose_ = notify;
  // uv_close stops the watcher before the descriptor goes away.
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
  // The descriptor closes now, or when a send batch on the thread pool finishes.
  descriptor_.reset();
}

void RawSocket::OnHandleClosed(uv_handle_t* handle) {
  RawSocket* self = static_cast<RawSocket*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  if (self == nullptr) return;
  self->poll_ = nullptr;
  if (self->cleanupHook_ != nullptr) {
    // Removes the teardown hook, or, when teardown is what closed us, tells
    // Node this socket is done so the loop can close.
    napi_remove_async_cleanup_hook(self->cleanupHook_);
    self->cleanupHook_ = nullptr;
  }
  if (!self->notifyClose_) return;  // environment teardown: no JS may run
  {
    Napi::HandleScope scope(self->Env());
    self->Notify(self->onClose_, {});
  }
  self->onMessages_.Reset();
  self->onWritable_.Reset();
  self->onError_.Reset();
  self->onClose_.Reset();
  self->onIcmpErrors_.Reset();
  self->asyncContext_.reset();
  self->Unref();
}

void RawSocket::OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* data) {
  RawSocket* self = static_cast<RawSocket*>(data);
  self->cleanupHook_ = hook;
  self->notifyClose_ = false;
  if (self->poll_ == nullptr) {
    napi_remove_async_cleanup_hook(hook);
    self->cleanupHook_ = nullptr;
  } else if (!self->closing_) {
    self->StartClose(false);
  }
  // else: a close is under way and OnHandleClosed signals completion.
}

void RawSocket::Notify(Napi::FunctionReference& handler, const std::initializer_list<napi_value>& args) {
  if (handler.IsEmpty() || !asyncContext_) return;
  try {
    handler.MakeCallback(Value(), args, *asyncContext_);
  } catch (const Napi::Error&) {
    // The JS dispatcher reports listener errors itself (as uncaught exceptions on
    // the next tick); an error here must never unwind into libuv or abort.
  }
}

void RawSocket::OnPoll(uv_poll_t* handle, int status, int events) {
  RawSocket* self = static_cast<RawSocket*>(handle->data);
  if (self == nullptr || self->closing_) return;
  try {
    Napi::HandleScope scope(self->Env());
    if (status < 0) {
      // With the error queue on, POLLERR is a queued ICMP error, never a reason to close.
      if (self->receiveErrors_ && status == UV_EBADF && self->RecoverFromPollError()) return;
      self->Notify(self->onError_, {SystemError(self->Env(), -status, "poll").Value()});
      return;
    }
    self->fruitlessPollErrors_ = 0;
    if (events & UV_READABLE) self->OnReadable();
    // After the messages: a receive that failed with a queued error's errno flags it.
    if (!self->closing_ && self->receiveErrors_ && ((events & UV_PRIORITIZED) || self->errorQueueFlagged_)) {
      self->OnErrorQueue((events & UV_PRIORITIZED) != 0);
    }
    if (!self->closing_ && (events & UV_WRITABLE)) self->OnWritable();
  } catch (...) {
    // Nothing may unwind through libuv.
  }
}

void RawSocket::OnWritable() { Notify(onWritable_, {}); }

void RawSocket::OnReadable() {
  Napi::Env env = Env();
  int error = 0;
  Napi::Value batch = ReadBatch(env, &error);
  if (!batch.IsUndefined()) Notify(onMessages_, {batch});
  if (error != 0 && !closing_) Notify(onError_, {SystemError(env, error, "recvmsg").Value()});
}

// One wake-up's datagrams cross into JS in one call. Each gets a Buffer (and
// memory) of its own: a listener may keep it, and nothing ever overwrites it.
Napi::Value RawSocket::ReadBatch(Napi::Env env, int* error) {
  Napi::Array buffers = Napi::Array::New(env);
  Napi::Array sources = Napi::Array::New(env);
  Napi::Array stamps;
  Napi::Array truncated;
  Napi::Array ttls;
  Napi::Array ports;
  if (timestamps_) stamps = Napi::Array::New(env);
  if (receiveTtl_) ttls = Napi::Array::New(env);
  if (udp_) ports = Napi::Array::New(env);
  uint32_t count = 0;
  uint32_t truncatedCount = 0;
  uint32_t socketErrors = 0;
  uint16_t lastSourcePort = 0;

  // Consecutive datagrams usually come from one host: format each new source once.
  sockaddr_storage lastSource{};
  socklen_t lastSourceLength = 0;
  Napi::Value lastSourceText;

  while (count < kMaxMessagesPerWakeup) {
    for (size_t i = 0; i < batchSize_; i++) {
      msghdr& h = messages_[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_controllen = timestamps_ || receiveTtl_ ? kControlSize : 0;
      h.msg_flags = 0;
    }
    int received;
#ifdef __linux__
    received = recvmmsg(Fd(), messages_.data(), static_cast<unsigned int>(batchSize_), MSG_DONTWAIT, nullptr);
#else
    ssize_t one = recvmsg(Fd(), &messages_[0].msg_hdr, 0);
    received = one < 0 ? -1 : 1;
    if (one >= 0) messages_[0].msg_len = static_cast<unsigned int>(one);
#endif
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (receiveErrors_) {
        // An ICMP error's errno (sk_err) fails one receive, even with datagrams queued;
        // the error itself waits on the error queue. Read on (bounded), then drain it.
        errorQueueFlagged_ = true;
        if (++socketErrors <= kMaxSocketErrorsPerRead) continue;
        break;
      }
      *error = errno;
      break;
    }
    for (int i = 0; i < received; i++) {
      const msghdr& h = messages_[i].msg_hdr;
      const size_t length = std::min<size_t>(messages_[i].msg_len, bufferSize_);
      buffers.Set(count, Napi::Buffer<uint8_t>::Copy(env, receiveBuffers_.data() + i * bufferSize_, length));
      const sockaddr_storage& source = receiveAddresses_[i];
      if (lastSourceLength == 0 || h.msg_namelen != lastSourceLength ||
          std::memcmp(&source, &lastSource, h.msg_namelen) != 0) {
        lastSourceText = AddressText(env, source, &lastSourcePort);
        std::memcpy(&lastSource, &source, h.msg_namelen);
        lastSourceLength = h.msg_namelen;
      }
      sources.Set(count, lastSourceText);
      if (udp_) ports.Set(count, Napi::Number::New(env, lastSourcePort));
      if (timestamps_) {
        uint64_t nanoseconds = 0;
        msghdr copy = h;
        if (ReceiveTimestamp(&copy, &nanoseconds)) {
          stamps.Set(count, Napi::BigInt::New(env, nanoseconds));
        } else {
          stamps.Set(count, env.Undefined());
        }
      }
      if (receiveTtl_) {
        msghdr copy = h;
        const int ttl = ReceiveTtl(&copy);
        ttls.Set(count, ttl >= 0 ? Napi::Value(Napi::Number::New(env, ttl)) : env.Undefined());
      }
      if (h.msg_flags & MSG_TRUNC) {
        if (truncatedCount == 0) truncated = Napi::Array::New(env);
        truncated.Set(truncatedCount++, Napi::Number::New(env, count));
      }
      count++;
    }
    if (static_cast<size_t>(received) < batchSize_) break;  // the queue was empty: skip the EAGAIN call
  }
  if (count == 0) return env.Undefined();
  Napi::Array batch = Napi::Array::New(env, 6);
  batch.Set(0u, buffers);
  batch.Set(1u, sources);
  batch.Set(2u, timestamps_ ? Napi::Value(stamps) : env.Undefined());
  batch.Set(3u, truncatedCount > 0 ? Napi::Value(truncated) : env.Undefined());
  batch.Set(4u, receiveTtl_ ? Napi::Value(ttls) : env.Undefined());
  batch.Set(5u, udp_ ? Napi::Value(ports) : env.Undefined());
  return batch;
}

}  // namespace rawsocket
