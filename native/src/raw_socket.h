// RawSocket: one operating-system raw socket (or ICMP or UDP datagram socket, opened
// here or adopted), watched by a uv_poll_t on the environment's own loop. C++ does the system calls and checks
// arguments; the JS Socket class owns queues, callbacks and events.
#pragma once
#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "packet_socket.h"

namespace rawsocket {

// Owns a socket descriptor. Shared by the socket and any send batch running on
// the thread pool, so the descriptor is closed only when neither uses it (its
// number cannot be reused under a send in flight).
struct Descriptor {
  explicit Descriptor(int descriptor) : fd(descriptor) {}
  ~Descriptor();
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  // Gives the descriptor back without closing it: an adopted one whose adoption failed
  // stays the caller's. Only before anything else shares it.
  void Release() { fd = -1; }
  int fd;
};

// A send request checked and resolved: its bytes and its destination.
struct PreparedSend {
  uint8_t* data;
  size_t length;
  sockaddr_storage address;
  socklen_t addressLength;
  uint32_t slot;  // index of its result
  // Per-packet header fields (IP_TTL / IPV6_HOPLIMIT, IP_TOS / IPV6_TCLASS control messages); -1: the socket's.
  int16_t hopLimit = -1;
  int16_t trafficClass = -1;
};

class SendWork;

// Receive storage mapped straight from the OS (mmap): pages become resident only as
// datagrams fill them, and release() gives them back at once, whatever the heap's
// fragmentation (a program that opens and closes sockets by the thousand stays flat).
class MappedBuffer {
 public:
  MappedBuffer() = default;
  ~MappedBuffer() { release(); }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  // Returns false when the OS refuses the memory.
  bool allocate(size_t size);
  void release();
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class RawSocket : public Napi::ObjectWrap<RawSocket> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new RawSocket(family: 1|2 (0: the descriptor's) | 3 packet (AF_PACKET),
  //   protocol: 0..255 (-1: the descriptor's); packet: 0 IPv4+IPv6 | 0x0800 | 0x86dd,
  //   options: {bufferSize, mode: 0 auto|1 raw|2 datagram, timestamps: boolean, receiveTtl: boolean,
  //             receiveErrors: boolean, descriptor: undefined | 0..2^31-1 (adopt this open socket),
  //             packetInfo?: boolean, txTimestamps?: boolean, interface?: string (packet: its name; all when absent)},
  //   handlers: {onMessages, onWritable, onError, onClose, onIcmpErrors, onSent? (needed with txTimestamps)})
  explicit RawSocket(const Napi::CallbackInfo& info);
  ~RawSocket() override;

 private:
  // JS methods.
  Napi::Value SendBatch(const Napi::CallbackInfo& info);
  Napi::Value SendBatchAsync(const Napi::CallbackInfo& info);
  Napi::Value ReceiveNow(const Napi::CallbackInfo& info);
  Napi::Value SetWatch(const Napi::CallbackInfo& info);
  Napi::Value SetChecksum(const Napi::CallbackInfo& info);
  Napi::Value SetIcmpFilter(const Napi::CallbackInfo& info);
  Napi::Value GetOption(const Napi::CallbackInfo& info);
  Napi::Value SetOption(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value SetRef(const Napi::CallbackInfo& info);
  Napi::Value IsDatagram(const Napi::CallbackInfo& info);
  Napi::Value Describe(const Napi::CallbackInfo& info);
  Napi::Value GetDescriptor(const Napi::CallbackInfo& info);
  Napi::Value DrainErrors(const Napi::CallbackInfo& info);
  Napi::Value Drops(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env, const char* what) const;
  // Packet sockets capture only: a send throws (code ERR_SOCKET_CAPTURE_ONLY).
  void CheckSends(Napi::Env env) const;
  void Setup(Napi::Env env, bool adopted);
  // Checks an open descriptor given to adopt (family, type, protocol; mode and the
  // caller's family and protocol must match it) and sets family_, protocol_ and
  // datagram_. Throws without closing it.
  void InspectDescriptor(Napi::Env env, int fd, int64_t family, int64_t protocol, int64_t mode);
  // Opens and binds the AF_PACKET socket of a packet socket (family 3).
  int OpenPacket(Napi::Env env, int64_t protocol, Napi::Object options);
  void StartClose(bool notify);
  // Frees the receive batch and error-queue storage (a closed socket keeps none of it).
  void ReleaseReceiveStorage();
  void OnReadable();
  // Reads every ready datagram (bounded per call) into JS values: [buffers,
  // sources, timestamps|undefined, truncated indices|undefined, ttls|undefined,
  // ports|undefined, drops|undefined, ipInfo|undefined, linkInfo|undefined] (see
  // lib/binding.ts ReceivedBatch), or undefined when none.
  Napi::Value ReadBatch(Napi::Env env, int* error);
  // Checks send requests[start, start+count), writes -EINVAL results for bad
  // addresses and returns the rest ready for the system call.
  std::vector<PreparedSend> PrepareSends(const Napi::CallbackInfo& info, Napi::Int32Array* results);
  friend class SendWork;
  void OnWritable();
  // Reads the error queue (bounded per call): an array of QueuedErrorValue entries,
  // or undefined when none was an ICMP (or local) error. *read counts every entry read;
  // transmit timestamps among them go to *sent as [sequence, timestamp, …], undefined when none.
  Napi::Value ReadErrors(Napi::Env env, uint32_t* read, Napi::Value* sent);
  // Hands what ReadErrors read to the handlers.
  void NotifyErrorQueue(Napi::Value errors, Napi::Value sent);
  // The poll watcher saw a queued error (POLLPRI) or a receive failed with one.
  void OnErrorQueue(bool prioritized);
  // libuv stopped the watcher on POLLERR without POLLPRI; restarts it when that was a
  // queued error. Returns false when it gives up (the caller reports the error).
  bool RecoverFromPollError();
  void Notify(Napi::FunctionReference& handler, const std::initializer_list<napi_value>& args);
  bool ParseAddress(Napi::Env env, Napi::Value value, uint16_t port, sockaddr_storage* out, socklen_t* outLength);
  int PollEvents(int events) const;

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnHandleClosed(uv_handle_t* handle);
  // A packet socket's descriptor closes on the thread pool; false when it could not be queued.
  bool CloseDescriptorAside();
  // One part of closing (the watcher; a packet socket's descriptor) is done; after the last,
  // 'close' is reported and the environment may tear down.
  void CloseStepDone();
  static void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* self);

  // Null once closed (a send batch in flight may still hold its own reference).
  std::shared_ptr<Descriptor> descriptor_;
  int Fd() const { return descriptor_ ? descriptor_->fd : -1; }
  int family_ = AF_INET;
  int protocol_ = 0;
  bool datagram_ = false;
  // An ordinary UDP socket (SOCK_DGRAM): sends need a port, messages carry their source port.
  bool udp_ = false;
  // IP_RECVERR / IPV6_RECVERR are on.
  bool receiveErrors_ = false;
  // SO_TIMESTAMPING transmit timestamps come on the error queue.
  bool txTimestamps_ = false;
  // Something comes on the error queue: the poll watcher always includes UV_PRIORITIZED.
  bool WatchesErrorQueue() const { return receiveErrors_ || txTimestamps_; }
  // IP_PKTINFO, IP_RECVTTL, IP_RECVTOS (or IPv6's): local address, interface, hop limit, class.
  bool packetInfo_ = false;
  bool packetInfoAuto_ = true;  // the option was absent: on where no IP header is delivered
  // An AF_PACKET socket: capture only; etherTypes_ is kEtherTypeBoth, kEtherTypeIPv4 or kEtherTypeIPv6.
  bool packet_ = false;
  int etherTypes_ = kEtherTypeBoth;
  int interfaceIndex_ = 0;  // the one it is bound to; 0: every interface
  InterfaceNames interfaceNames_;
  // A receive failed with a pending socket error: the error queue has something.
  bool errorQueueFlagged_ = false;
  // Consecutive POLLERR wake-ups that found nothing to drain.
  uint32_t fruitlessPollErrors_ = 0;
  bool timestamps_ = false;
  bool receiveTtl_ = false;
  bool checksums_ = false;
  size_t checksumOffset_ = 0;
  size_t bufferSize_ = 4096;
  int watchedEvents_ = 0;
  bool notifyClose_ = true;
  bool closing_ = false;
  uint32_t closeSteps_ = 0;
  bool closeFinished_ = false;
  uv_loop_t* loop_ = nullptr;

  uv_poll_t* poll_ = nullptr;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::FunctionReference onMessages_;
  Napi::FunctionReference onWritable_;
  Napi::FunctionReference onError_;
  Napi::FunctionReference onClose_;
  Napi::FunctionReference onIcmpErrors_;
  Napi::FunctionReference onSent_;
  // Bytes of the original packets that error-queue entries return (bufferSize_, on first use).
  std::vector<uint8_t> errorData_;

  // Receive batch storage, allocated once in one mapping: recvmmsg fills up to
  // batchSize_ datagrams of bufferSize_ bytes per system call. The pointers below
  // point into it (null once released).
  size_t batchSize_ = 1;
  MappedBuffer receiveStorage_;
#ifdef __linux__
  using Message = mmsghdr;
#else
  struct Message {
    msghdr msg_hdr;
    unsigned int msg_len;
  };
#endif
  Message* messages_ = nullptr;
  iovec* receiveVectors_ = nullptr;
  sockaddr_storage* receiveAddresses_ = nullptr;
  uint8_t* receiveControl_ = nullptr;
  uint8_t* receiveBuffers_ = nullptr;


  // Last parsed destination: most sends repeat the previous address.
  std::string lastAddressText_;
  sockaddr_storage lastAddress_{};
  socklen_t lastAddressLength_ = 0;
};

}  // namespace rawsocket
