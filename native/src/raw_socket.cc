#include "raw_socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/errqueue.h>
#include <linux/icmp.h>
#include <linux/if_packet.h>
#endif

#include <cerrno>
#include <cmath>
#include <cstring>
#include <string>

#include "addon_data.h"
#include "ancillary.h"
#include "arguments.h"
#include "checksum.h"
#include "network_namespace.h"
#include "request_checks.h"
#include "system_error.h"

namespace rawsocket {

namespace {

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
// Send results meaning: the request's buffer, offset or length is no longer valid; its
// hopLimit or trafficClass is out of range; the socket's packets carry their own IP header
// (IP_HDRINCL / IPV6_HDRINCL), so per-packet header fields cannot apply.
constexpr int32_t kInvalidRequest = INT32_MIN;
constexpr int32_t kInvalidHopLimit = INT32_MIN + 1;
constexpr int32_t kInvalidTrafficClass = INT32_MIN + 2;
constexpr int32_t kHeaderIncluded = INT32_MIN + 3;
// Error-queue entries of this origin are transmit timestamps, not errors.
#ifdef SO_EE_ORIGIN_TIMESTAMPING
constexpr uint8_t kOriginTimestamping = SO_EE_ORIGIN_TIMESTAMPING;
#else
constexpr uint8_t kOriginTimestamping = 4;
#endif
// The family argument for a packet socket (AF_PACKET).
constexpr int64_t kFamilyPacket = 3;

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

// An optional boolean option: false when absent.
bool OptionalBoolean(Napi::Env env, Napi::Object options, const char* name) {
  Napi::Value value = options.Get(name);
  if (value.IsUndefined()) return false;
  if (!value.IsBoolean()) throw Napi::TypeError::New(env, std::string("The \"") + name + "\" option must be a boolean");
  return value.As<Napi::Boolean>().Value();
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

bool MappedBuffer::allocate(size_t size) {
  release();
  void* memory = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return false;
  data_ = static_cast<uint8_t*>(memory);
  size_ = size;
  return true;
}

void MappedBuffer::release() {
  if (data_ != nullptr) munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
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
  alignas(cmsghdr) uint8_t control[kSendChunk][kSendControlSize];
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
      const size_t controlLength = WriteHeaderFields(send.address.ss_family, send.hopLimit, send.trafficClass, control[k]);
      if (controlLength > 0) {
        messages[k].msg_hdr.msg_control = control[k];
        messages[k].msg_hdr.msg_controllen = controlLength;
      }
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
    iovec vector{one.data, one.length};
    msghdr message{};
    message.msg_name = &one.address;
    message.msg_namelen = one.addressLength;
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    const size_t controlLength = WriteHeaderFields(one.address.ss_family, one.hopLimit, one.trafficClass, control[0]);
    if (controlLength > 0) {
      message.msg_control = control[0];
      message.msg_controllen = controlLength;
    }
    ssize_t done = sendmsg(fd, &message, 0);
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
                         InstanceMethod<&RawSocket::Drops>("drops"),
                     });
}

RawSocket::RawSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RawSocket>(info) {
  Napi::Env env = info.Env();
  // 0 and -1: "whatever the adopted descriptor is" (only with options.descriptor).
  const int64_t family = IntegerArgument(info, 0, "addressFamily", 0, kFamilyPacket);
  const int64_t protocol = family == kFamilyPacket ? IntegerArgument(info, 1, "protocol", 0, 0xffff)
                                                   : IntegerArgument(info, 1, "protocol", -1, 255);
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
  // Absent: on wherever the kernel delivers no IP header (IPv6 and datagram sockets).
  const bool packetInfoGiven = !options.Get("packetInfo").IsUndefined();
  packetInfo_ = OptionalBoolean(env, options, "packetInfo");
  txTimestamps_ = OptionalBoolean(env, options, "txTimestamps");
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
  Napi::Value onSent = handlers.Get("onSent");
  // Set here, used by Setup below (family and type are known by now).
  packetInfoAuto_ = !packetInfoGiven;
  if (txTimestamps_ && !onSent.IsFunction()) throw Napi::TypeError::New(env, "handlers.onSent must be a function");

  std::string namespaceName;
  Napi::Value namespaceValue = options.Get("namespace");
  if (!namespaceValue.IsUndefined()) {
    if (!namespaceValue.IsString()) throw Napi::TypeError::New(env, "The \"namespace\" option must be a string");
    namespaceName = namespaceValue.As<Napi::String>().Utf8Value();
    if (!ValidNamespaceName(namespaceName)) {
      throw Napi::RangeError::New(env, "The \"namespace\" option must be a network namespace name in /run/netns: 1 to 64 of A-Z a-z 0-9 _ . -, not starting with '.'");
    }
    if (adopt) throw Napi::RangeError::New(env, "An adopted descriptor is already in its namespace: \"namespace\" and \"descriptor\" exclude each other");
  }
  // Only socket() (and, for packet sockets, the interface lookup) runs inside the lab's
  // namespace; the thread is back in its own before anything else happens.
  NamespaceScope inside(env, namespaceName);
  int fd;
  if (family == kFamilyPacket) {
    if (adopt) throw Napi::RangeError::New(env, "A packet socket cannot adopt a descriptor");
    fd = OpenPacket(env, protocol, options);
  } else if (adopt) {
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
  try {
    inside.Leave(env);
  } catch (...) {
    if (!adopt) ::close(fd);
    throw;
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
  if (onSent.IsFunction()) onSent_ = Napi::Persistent(onSent.As<Napi::Function>());
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

  // Every socket counts the datagrams the kernel dropped for it (SO_RXQ_OVFL).
  int error = EnableDropCounts(fd);
  if (error != 0) throw SystemError(env, error, "setsockopt");
  if (packetInfoAuto_) packetInfo_ = !packet_ && (family_ == AF_INET6 || datagram_);
  if (packetInfo_ && (error = EnablePacketInfo(fd, family_)) != 0) throw SystemError(env, error, "setsockopt");

  if (receiveErrors_ && (error = EnableErrorQueue(fd, family_, true)) != 0) throw SystemError(env, error, "setsockopt");
  if (txTimestamps_) {
    if ((error = EnableTransmitTimestamps(fd)) != 0) throw SystemError(env, error, "setsockopt");
#ifdef SO_SELECT_ERR_QUEUE
    // Timestamps on the error queue make poll report POLLERR; POLLPRI tells libuv it is not a broken descriptor.
    const int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_SELECT_ERR_QUEUE, &on, sizeof on) < 0) throw SystemError(env, errno, "setsockopt");
#endif
  }

  batchSize_ = 1;
#ifdef __linux__
  batchSize_ = std::max<size_t>(1, std::min<size_t>(kMaxReceiveBatch, (1u << 20) / bufferSize_));
#endif
  // One mapping: headers, vectors, addresses and control space first (each rounded up
  // to 16 bytes, so each stays aligned), then the datagram buffers.
  auto aligned = [](size_t size) { return (size + 15) & ~static_cast<size_t>(15); };
  const size_t headers = aligned(batchSize_ * sizeof(Message)), vectors = aligned(batchSize_ * sizeof(iovec)),
               addresses = aligned(batchSize_ * sizeof(sockaddr_storage)), control = aligned(batchSize_ * kReceiveControlSize);
  if (!receiveStorage_.allocate(headers + vectors + addresses + control + batchSize_ * bufferSize_)) {
    throw SystemError(env, errno, "mmap");
  }
  uint8_t* at = receiveStorage_.data();
  messages_ = reinterpret_cast<Message*>(at);
  receiveVectors_ = reinterpret_cast<iovec*>(at += headers);
  receiveAddresses_ = reinterpret_cast<sockaddr_storage*>(at += vectors);
  receiveControl_ = at += addresses;
  receiveBuffers_ = at += control;
  // The receive headers point into the storage above once and for all (the mapping
  // starts zeroed); each read only resets the lengths the kernel overwrites.
  for (size_t i = 0; i < batchSize_; i++) {
    receiveVectors_[i] = iovec{receiveBuffers_ + i * bufferSize_, bufferSize_};
    msghdr& h = messages_[i].msg_hdr;
    h.msg_name = &receiveAddresses_[i];
    h.msg_iov = &receiveVectors_[i];
    h.msg_iovlen = 1;
    // Always: the drop count may come with any datagram.
    h.msg_control = receiveControl_ + i * kReceiveControlSize;
  }

  uv_loop_t* loop = nullptr;
  napi_status status = napi_get_uv_event_loop(env, &loop);
  loop_ = status == napi_ok ? loop : nullptr;
  poll_ = new uv_poll_t;
  int pollError = status == napi_ok ? uv_poll_init(loop, poll_, fd) : UV_EINVAL;
  if (pollError != 0) {
    delete poll_;
    poll_ = nullptr;
    throw SystemError(env, -pollError, "uv_poll_init");
  }
  poll_->data = nullptr;
  // Last: a packet socket starts receiving only once everything above is ready.
  if (packet_ && (error = BindPacketSocket(fd, interfaceIndex_)) != 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
    poll_ = nullptr;
    throw SystemError(env, error, "bind");
  }
}

int RawSocket::OpenPacket(Napi::Env env, int64_t protocol, Napi::Object options) {
  if (protocol != kEtherTypeBoth && protocol != kEtherTypeIPv4 && protocol != kEtherTypeIPv6) {
    throw Napi::RangeError::New(env, "A packet socket's protocol must be 0 (IPv4 and IPv6), 0x0800 (IPv4) or 0x86dd (IPv6)");
  }
  const char* unsupported[] = {"receiveTtl", "receiveErrors", "packetInfo", "txTimestamps"};
  const bool enabled[] = {receiveTtl_, receiveErrors_, packetInfo_, txTimestamps_};
  for (size_t i = 0; i < 4; i++) {
    if (enabled[i]) throw Napi::RangeError::New(env, std::string("A packet socket has no \"") + unsupported[i] + "\" option");
  }
  Napi::Value name = options.Get("interface");
  if (!name.IsUndefined()) {
    if (!name.IsString()) throw Napi::TypeError::New(env, "The \"interface\" option must be a string");
    const std::string text = name.As<Napi::String>().Utf8Value();
    if (text.empty() || text.size() >= IF_NAMESIZE || text.find('\0') != std::string::npos || text.find('/') != std::string::npos) {
      throw Napi::RangeError::New(env, "The \"interface\" option must be an interface name of 1 to " +
                                           std::to_string(IF_NAMESIZE - 1) + " characters");
    }
    interfaceIndex_ = InterfaceIndex(env, text);
  }
  const int fd = OpenPacketSocket();
  if (fd < 0) throw SystemError(env, errno, "socket");
  packet_ = true;
  datagram_ = true;
#ifdef AF_PACKET
  family_ = AF_PACKET;
#endif
  etherTypes_ = static_cast<int>(protocol);
  protocol_ = etherTypes_;
  return fd;
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

void RawSocket::CheckSends(Napi::Env env) const {
  if (!packet_) return;
  Napi::Error error = Napi::Error::New(env, "Cannot send on a packet socket: it captures only");
  error.Value().Set("code", Napi::String::New(env, "ERR_SOCKET_CAPTURE_ONLY"));
  throw error;
}

void RawSocket::CheckOpen(Napi::Env env, const char* what) const {
  if (!descriptor_ || closing_) {
    Napi::Error error = Napi::Error::New(env, std::string("Cannot ") + what + ": the socket is closed");
    error.Value().Set("code", Napi::String::New(env, "ERR_SOCKET_CLOSED"));
    throw error;
  }
}

// A send request's hopLimit or trafficClass: -1 when absent or -1, the value when an
// integer in [min, 255], kInvalidField otherwise.
static int32_t HeaderField(const Napi::Value& value, int32_t min) {
  if (value.IsEmpty() || value.IsUndefined()) return -1;
  if (!value.IsNumber()) return kInvalidField;
  return HeaderFieldNumber(value.As<Napi::Number>().DoubleValue(), min);
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
  char text[kAddressTextSize];
  size_t length = 0;
  napi_get_value_string_utf8(env, value, text, sizeof text, &length);
  // Too long, or with a NUL inside (inet_pton would read only what comes before it).
  if (!AddressTextUsable(text, length)) return false;
  if (lastAddressLength_ != 0 && lastAddressText_ == text) {
    *out = lastAddress_;
    *outLength = lastAddressLength_;
    if (port != 0) SetPort(out, port);
    return true;
  }
  sockaddr_storage parsed{};
  socklen_t parsedLength = 0;
  if (!ParseAddressText(family_, text, &parsed, &parsedLength)) return false;
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
  // headerFields (argument 5): some request may carry hopLimit / trafficClass; only then are they read.
  const bool headerFields = info.Length() > 5 && info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
  const Napi::Value hopLimitKey = headerFields ? Napi::String::New(env, "hopLimit") : Napi::Value();
  const Napi::Value trafficClassKey = headerFields ? Napi::String::New(env, "trafficClass") : Napi::Value();
  // First read every request's fields (property reads may run JS: getters, proxies),
  // then take pointers into the buffers with no JS in between, so nothing can detach
  // or replace a buffer between its pointer being taken and its bytes being sent.
  struct Fields {
    Napi::Value buffer, offset, length, address, port, hopLimit, trafficClass;
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
                            udp_ ? request.Get(portKey) : Napi::Value(),
                            headerFields ? request.Get(hopLimitKey) : Napi::Value(),
                            headerFields ? request.Get(trafficClassKey) : Napi::Value()});
  }
  CheckOpen(env, "send");  // a getter may have closed the socket...
  // ...or detached the results array: take its pointer only now.
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      static_cast<int64_t>(info[3].As<Napi::TypedArray>().ElementLength()) < count) {
    throw Napi::TypeError::New(env, "The \"results\" argument must be an Int32Array of at least count elements");
  }
  *results = info[3].As<Napi::Int32Array>();
  // Asked once per batch, and only when a request sets a header field.
  int headerIncluded = -1;
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
    if (!ByteRangeFits(offset, length, size)) {
      (*results)[slot] = kInvalidRequest;
      continue;
    }
    // The destination port: required (1-65535) on a UDP socket, never read on any other.
    uint32_t port = 0;
    if (udp_) {
      port = UdpPortNumber(f.port.IsNumber() ? f.port.As<Napi::Number>().DoubleValue() : -1);
      if (port == 0) {
        (*results)[slot] = -EINVAL;
        continue;
      }
    }
    PreparedSend send;
    if (headerFields) {
      // -1 (or absent): the socket's own value. IPv4 TTL 1-255 (the kernel refuses 0), hop limit 0-255, class 0-255.
      const int32_t field = HeaderField(f.hopLimit, family_ == AF_INET ? 1 : 0);
      const int32_t trafficClass = HeaderField(f.trafficClass, 0);
      if (field == kInvalidField || trafficClass == kInvalidField) {
        (*results)[slot] = field == kInvalidField ? kInvalidHopLimit : kInvalidTrafficClass;
        continue;
      }
      if (field >= 0 || trafficClass >= 0) {
        if (headerIncluded < 0) headerIncluded = IncludesHeader(Fd(), family_) ? 1 : 0;
        if (headerIncluded == 1) {
          (*results)[slot] = kHeaderIncluded;
          continue;
        }
      }
      send.hopLimit = static_cast<int16_t>(field);
      send.trafficClass = static_cast<int16_t>(trafficClass);
    }
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
  CheckSends(env);
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
  CheckSends(env);
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
  return WatchesErrorQueue() && events != 0 ? events | UV_PRIORITIZED : events;
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
  if (packet_) throw Napi::RangeError::New(env, "ICMP type filters apply only to ICMP and ICMPv6 sockets, not packet sockets");
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

// describe() -> [addressFamily 1|2 (3: packet), protocol (packet: EtherType or 0), datagram]:
// what an adopted descriptor turned out to be.
Napi::Value RawSocket::Describe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array value = Napi::Array::New(env, 3);
  value.Set(0u, Napi::Number::New(env, packet_ ? kFamilyPacket : family_ == AF_INET ? 1 : 2));
  value.Set(1u, Napi::Number::New(env, protocol_));
  value.Set(2u, Napi::Boolean::New(env, datagram_));
  return value;
}

// descriptor() -> the socket's descriptor number, or -1 once closed.
Napi::Value RawSocket::GetDescriptor(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), descriptor_ && !closing_ ? descriptor_->fd : -1);
}

// drainErrors() -> [icmpErrors|undefined, sent|undefined]: what the error queue holds now
// (see ReadErrors), or undefined when it is empty. The JS layer calls it before each send
// batch: the queued errors' pending errno (sk_err) would otherwise fail that send.
Napi::Value RawSocket::DrainErrors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!WatchesErrorQueue() || !descriptor_ || closing_) return env.Undefined();
  uint32_t read = 0;
  Napi::Value sent;
  Napi::Value errors = ReadErrors(env, &read, &sent);
  if (read == 0) return env.Undefined();
  Napi::Array both = Napi::Array::New(env, 2);
  both.Set(0u, errors);
  both.Set(1u, sent);
  return both;
}

// drops() -> packets the kernel has dropped for this socket so far (SO_MEMINFO), -1 when
// it cannot tell or the socket is closed.
Napi::Value RawSocket::Drops(const Napi::CallbackInfo& info) {
  if (!descriptor_ || closing_) return Napi::Number::New(info.Env(), -1);
  return Napi::Number::New(info.Env(), static_cast<double>(ReadDropCount(Fd())));
}

Napi::Value RawSocket::ReadErrors(Napi::Env env, uint32_t* read, Napi::Value* sent) {
  *read = 0;
  *sent = env.Undefined();
  if (errorData_.empty()) errorData_.resize(bufferSize_);
  Napi::Array errors;
  Napi::Array stamps;
  uint32_t errorCount = 0;
  uint32_t stampCount = 0;
  while (*read < kMaxErrorsPerWakeup) {
    QueuedError error;
    const int result = ReadQueuedError(Fd(), errorData_.data(), errorData_.size(), &error);
    if (result <= 0) break;
    (*read)++;
    if (error.origin == kOriginTimestamping) {
      // A transmit timestamp (SO_TIMESTAMPING): [sequence (OPT_ID), ns since the epoch], never an error.
      if (!txTimestamps_ || !error.hasTimestamp) continue;
      if (stampCount == 0) stamps = Napi::Array::New(env);
      stamps.Set(stampCount++, Napi::Number::New(env, error.data));
      stamps.Set(stampCount++, Napi::BigInt::New(env, error.timestamp));
      continue;
    }
    if (!receiveErrors_) continue;
    if (errorCount == 0) errors = Napi::Array::New(env);
    errors.Set(errorCount++, QueuedErrorValue(env, error, errorData_.data()));
  }
  if (*read == 0) return env.Undefined();
  fruitlessPollErrors_ = 0;
  if (stampCount > 0) *sent = stamps;
  return errorCount > 0 ? Napi::Value(errors) : env.Undefined();
}

void RawSocket::NotifyErrorQueue(Napi::Value errors, Napi::Value sent) {
  if (!sent.IsUndefined()) Notify(onSent_, {sent});
  if (!errors.IsUndefined() && !closing_) Notify(onIcmpErrors_, {errors});
}

void RawSocket::OnErrorQueue(bool prioritized) {
  errorQueueFlagged_ = false;
  Napi::Env env = Env();
  uint32_t read = 0;
  Napi::Value sent;
  Napi::Value errors = ReadErrors(env, &read, &sent);
  if (read == 0 && prioritized) {
    // POLLPRI with an empty queue: only the pending errno (sk_err) is left, e.g. one
    // whose queue entry did not fit the receive buffer. Reading it clears it, or
    // poll would report it forever.
    int pending = 0;
    socklen_t length = sizeof pending;
    getsockopt(Fd(), SOL_SOCKET, SO_ERROR, &pending, &length);
  }
  if (read > 0) NotifyErrorQueue(errors, sent);
}

bool RawSocket::RecoverFromPollError() {
  // Bounded: a descriptor that keeps reporting POLLERR without anything queued is broken.
  if (++fruitlessPollErrors_ > kMaxFruitlessPollErrors) return false;
  Napi::Env env = Env();
  uint32_t read = 0;
  Napi::Value sent;
  Napi::Value errors = ReadErrors(env, &read, &sent);
  int pending = 0;
  socklen_t length = sizeof pending;
  getsockopt(Fd(), SOL_SOCKET, SO_ERROR, &pending, &length);
  // libuv stopped the watcher: start it again before any JS runs (which may change it).
  if (watchedEvents_ != 0 && uv_poll_start(poll_, watchedEvents_, OnPoll) != 0) return false;
  if (read > 0) NotifyErrorQueue(errors, sent);
  return true;
}

Napi::Value RawSocket::Close(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr && !closing_) StartClose(true);
  return info.Env().Undefined();
}

void RawSocket::StartClose(bool notify) {
  closing_ = true;
  notifyClose_ = notify;
  closeSteps_ = 1;
  // uv_close stops the watcher before the descriptor goes away.
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
  // Nothing else holds a packet socket's descriptor (it never sends).
  if (packet_ && loop_ != nullptr && descriptor_.use_count() == 1 && CloseDescriptorAside()) closeSteps_++;
  // The descriptor closes now, or when a send batch on the thread pool finishes.
  descriptor_.reset();
  // Now, not when garbage collection finds the wrapper: a program that opens and closes
  // many sockets would otherwise hold every one's buffers until then.
  ReleaseReceiveStorage();
}

void RawSocket::ReleaseReceiveStorage() {
  receiveStorage_.release();
  messages_ = nullptr;
  receiveVectors_ = nullptr;
  receiveAddresses_ = nullptr;
  receiveControl_ = nullptr;
  receiveBuffers_ = nullptr;
  std::vector<uint8_t>().swap(errorData_);
  std::string().swap(lastAddressText_);
  lastAddressLength_ = 0;
  batchSize_ = 0;
}

void RawSocket::OnHandleClosed(uv_handle_t* handle) {
  RawSocket* self = static_cast<RawSocket*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  if (self == nullptr) return;
  self->poll_ = nullptr;
  self->CloseStepDone();
}

// Closing a packet socket waits for an RCU grace period in the kernel (packet_release:
// synchronize_net, 10+ ms): its descriptor is closed on the thread pool, not on the loop.
bool RawSocket::CloseDescriptorAside() {
  struct Closer {
    uv_work_t work;
    std::shared_ptr<Descriptor> descriptor;
    RawSocket* socket;
  };
  Closer* closer = new Closer{uv_work_t{}, std::move(descriptor_), this};
  closer->work.data = closer;
  const int error = uv_queue_work(
      loop_, &closer->work, [](uv_work_t* work) { static_cast<Closer*>(work->data)->descriptor.reset(); },
      [](uv_work_t* work, int) {
        Closer* done = static_cast<Closer*>(work->data);
        RawSocket* socket = done->socket;
        delete done;
        socket->CloseStepDone();
      });
  if (error == 0) return true;
  descriptor_ = std::move(closer->descriptor);  // closed right here instead
  delete closer;
  return false;
}

void RawSocket::CloseStepDone() {
  if (--closeSteps_ > 0) return;
  closeFinished_ = true;
  if (cleanupHook_ != nullptr) {
    // Removes the teardown hook, or, when teardown is what closed us, tells
    // Node this socket is done so the loop can close.
    napi_remove_async_cleanup_hook(cleanupHook_);
    cleanupHook_ = nullptr;
  }
  if (!notifyClose_) return;  // environment teardown: no JS may run
  {
    Napi::HandleScope scope(Env());
    Notify(onClose_, {});
  }
  onMessages_.Reset();
  onWritable_.Reset();
  onError_.Reset();
  onClose_.Reset();
  onIcmpErrors_.Reset();
  onSent_.Reset();
  asyncContext_.reset();
  Unref();
}

void RawSocket::OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* data) {
  RawSocket* self = static_cast<RawSocket*>(data);
  self->cleanupHook_ = hook;
  self->notifyClose_ = false;
  if (self->closeFinished_) {
    napi_remove_async_cleanup_hook(hook);
    self->cleanupHook_ = nullptr;
  } else if (!self->closing_) {
    self->StartClose(false);
  }
  // else: a close is under way and CloseStepDone signals completion.
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
      if (self->WatchesErrorQueue() && status == UV_EBADF && self->RecoverFromPollError()) return;
      // libuv reports POLLERR as EBADF; the socket's pending error says what really happened
      // (a packet socket bound to an interface that is down: ENETDOWN).
      int code = -status;
      int pending = 0;
      socklen_t length = sizeof pending;
      if (status == UV_EBADF && getsockopt(self->Fd(), SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending != 0) code = pending;
      self->Notify(self->onError_, {SystemError(self->Env(), code, code == -status ? "poll" : "receive").Value()});
      return;
    }
    self->fruitlessPollErrors_ = 0;
    if (events & UV_READABLE) self->OnReadable();
    // After the messages: a receive that failed with a queued error's errno flags it.
    if (!self->closing_ && self->WatchesErrorQueue() && ((events & UV_PRIORITIZED) || self->errorQueueFlagged_)) {
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
// Per-datagram values come as parallel arrays, each only when the socket asks for it.
Napi::Value RawSocket::ReadBatch(Napi::Env env, int* error) {
  Napi::Array buffers = Napi::Array::New(env);
  Napi::Array sources = Napi::Array::New(env);
  Napi::Array stamps;
  Napi::Array truncated;
  Napi::Array ttls;
  Napi::Array ports;
  Napi::Array drops;
  // packetInfo: local addresses, and [interface index, hop limit, traffic class] per datagram.
  // Packet sockets: interface names, and [packet type (sll_pkttype), interface index, EtherType].
  // The numbers go in one Int32Array (-1: none), cheaper than three arrays of values.
  Napi::Array texts;
  std::vector<int32_t> numbers;
  const bool withDetails = packetInfo_ || packet_;
  if (timestamps_) stamps = Napi::Array::New(env);
  if (receiveTtl_) ttls = Napi::Array::New(env);
  if (udp_) ports = Napi::Array::New(env);
  if (withDetails) texts = Napi::Array::New(env);
  uint32_t count = 0;
  uint32_t read = 0;  // count, plus what a packet socket skipped (not IP)
  uint32_t truncatedCount = 0;
  uint32_t socketErrors = 0;
  uint16_t lastSourcePort = 0;

  // Consecutive datagrams usually come from one host: format each new source once.
  sockaddr_storage lastSource{};
  socklen_t lastSourceLength = 0;
  Napi::Value lastSourceText;
  uint8_t lastLocal[16];
  int lastLocalFamily = AF_UNSPEC;
  Napi::Value lastLocalText;
  int lastInterface = -1;
  Napi::Value lastInterfaceName;

  while (read < kMaxMessagesPerWakeup) {
    for (size_t i = 0; i < batchSize_; i++) {
      msghdr& h = messages_[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_controllen = kReceiveControlSize;
      h.msg_flags = 0;
    }
    int received;
#ifdef __linux__
    received = recvmmsg(Fd(), messages_, static_cast<unsigned int>(batchSize_), MSG_DONTWAIT, nullptr);
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
    read += static_cast<uint32_t>(received);
    for (int i = 0; i < received; i++) {
      msghdr& h = messages_[i].msg_hdr;
      const uint8_t* data = receiveBuffers_ + i * bufferSize_;
      const size_t length = std::min<size_t>(messages_[i].msg_len, bufferSize_);
      const sockaddr_storage& source = receiveAddresses_[i];
#ifdef __linux__
      const sockaddr_ll& link = reinterpret_cast<const sockaddr_ll&>(source);
      // A packet socket listens to every EtherType (only so does it see outgoing packets).
      if (packet_ && !WantedEtherType(link.sll_protocol, etherTypes_)) continue;
#endif
      ReceivedAncillary extra;
      ParseReceivedAncillary(&h, &extra);
      buffers.Set(count, Napi::Buffer<uint8_t>::Copy(env, data, length));
      if (packet_) {
        // The IP source from the packet itself (the link address says nothing about it).
        const bool v6 = length >= 40 && data[0] >> 4 == 6;
        const size_t at = v6 ? 8 : 12, size = v6 ? 16 : 4;
        sockaddr_in6 key{};  // version and address bytes, compared like any source
        key.sin6_family = v6 ? AF_INET6 : AF_INET;
        if (length >= at + size) std::memcpy(&key.sin6_addr, data + at, size);
        if (lastSourceLength == 0 || std::memcmp(&key, &lastSource, sizeof key) != 0) {
          lastSourceText = Napi::String::New(env, PacketSourceText(data, length));
          std::memcpy(&lastSource, &key, sizeof key);
          lastSourceLength = sizeof key;
        }
      } else if (lastSourceLength == 0 || h.msg_namelen != lastSourceLength ||
                 std::memcmp(&source, &lastSource, h.msg_namelen) != 0) {
        lastSourceText = AddressText(env, source, &lastSourcePort);
        std::memcpy(&lastSource, &source, h.msg_namelen);
        lastSourceLength = h.msg_namelen;
      }
      sources.Set(count, lastSourceText);
      if (udp_) ports.Set(count, Napi::Number::New(env, lastSourcePort));
      if (timestamps_) {
        stamps.Set(count, extra.hasTimestamp ? Napi::Value(Napi::BigInt::New(env, extra.timestamp)) : env.Undefined());
      }
      if (receiveTtl_) {
        ttls.Set(count, extra.hopLimit >= 0 ? Napi::Value(Napi::Number::New(env, extra.hopLimit)) : env.Undefined());
      }
      if (extra.drops != 0 && drops.IsEmpty()) {
        // The first datagram that says the kernel dropped some: earlier ones said none.
        drops = Napi::Array::New(env);
        for (uint32_t k = 0; k < count; k++) drops.Set(k, Napi::Number::New(env, 0));
      }
      if (!drops.IsEmpty()) drops.Set(count, Napi::Number::New(env, extra.drops));
      if (packetInfo_) {
        if (extra.localFamily == AF_UNSPEC) {
          texts.Set(count, env.Undefined());
        } else {
          const size_t size = extra.localFamily == AF_INET ? 4 : 16;
          if (lastLocalFamily != extra.localFamily || std::memcmp(lastLocal, extra.localAddress, size) != 0) {
            char text[INET6_ADDRSTRLEN] = "";
            inet_ntop(extra.localFamily, extra.localAddress, text, sizeof text);
            lastLocalText = Napi::String::New(env, text);
            lastLocalFamily = extra.localFamily;
            std::memcpy(lastLocal, extra.localAddress, size);
          }
          texts.Set(count, lastLocalText);
        }
        numbers.insert(numbers.end(), {extra.interfaceIndex, extra.hopLimit, extra.trafficClass});
      }
#ifdef __linux__
      if (packet_) {
        if (link.sll_ifindex != lastInterface) {
          lastInterface = link.sll_ifindex;
          lastInterfaceName = Napi::String::New(env, interfaceNames_.Name(Fd(), link.sll_ifindex));
        }
        texts.Set(count, lastInterfaceName);
        numbers.insert(numbers.end(), {link.sll_pkttype, link.sll_ifindex, ntohs(link.sll_protocol)});
      }
#endif
      if (h.msg_flags & MSG_TRUNC) {
        if (truncatedCount == 0) truncated = Napi::Array::New(env);
        truncated.Set(truncatedCount++, Napi::Number::New(env, count));
      }
      count++;
    }
    if (static_cast<size_t>(received) < batchSize_) break;  // the queue was empty: skip the EAGAIN call
  }
  if (count == 0) return env.Undefined();
  Napi::Array batch = Napi::Array::New(env, 9);
  batch.Set(0u, buffers);
  batch.Set(1u, sources);
  batch.Set(2u, timestamps_ ? Napi::Value(stamps) : env.Undefined());
  batch.Set(3u, truncatedCount > 0 ? Napi::Value(truncated) : env.Undefined());
  batch.Set(4u, receiveTtl_ ? Napi::Value(ttls) : env.Undefined());
  batch.Set(5u, udp_ ? Napi::Value(ports) : env.Undefined());
  batch.Set(6u, drops.IsEmpty() ? env.Undefined() : Napi::Value(drops));
  if (withDetails) {
    Napi::Int32Array fields = Napi::Int32Array::New(env, numbers.size());
    std::memcpy(fields.Data(), numbers.data(), numbers.size() * sizeof(int32_t));
    Napi::Array values = Napi::Array::New(env, 2);
    values.Set(0u, texts);
    values.Set(1u, fields);
    batch.Set(packet_ ? 8u : 7u, values);
  }
  return batch;
}

}  // namespace rawsocket
