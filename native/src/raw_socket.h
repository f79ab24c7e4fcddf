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
};

class SendWork;

class RawSocket : public Napi::ObjectWrap<RawSocket> {
 public:
  static Napi::Function Define(Napi::Env env);

  // new RawSocket(family: 1|2 (0: the descriptor's), protocol: 0..255 (-1: the descriptor's),
  //   options: {bufferSize, mode: 0 auto|1 raw|2 datagram, timestamps: boolean, receiveTtl: boolean,
  //             receiveErrors: boolean, descriptor: undefined | 0..2^31-1 (adopt this open socket)},
  //   handlers: {onMessages, onWritable, onError, onClose, onIcmpErrors})
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

  void CheckOpen(Napi::Env env, const char* what) const;
  void Setup(Napi::Env env, bool adopted);
  // Checks an open descriptor given to adopt (family, type, protocol; mode and the
  // caller's family and protocol must match it) and sets family_, protocol_ and
  // datagram_. Throws without closing it.
  void InspectDescriptor(Napi::Env env, int fd, int64_t family, int64_t protocol, int64_t mode);
  void StartClose(bool notify);
  void OnReadable();
  // Reads every ready datagram (bounded per call) into JS values: [buffers,
  // sources, timestamps|undefined, truncated indices|undefined, ttls|undefined],
  // or undefined when none.
  Napi::Value ReadBatch(Napi::Env env, int* error);
  // Checks send requests[start, start+count), writes -EINVAL results for bad
  // addresses and returns the rest ready for the system call.
  std::vector<PreparedSend> PrepareSends(const Napi::CallbackInfo& info, Napi::Int32Array* results);
  friend class SendWork;
  void OnWritable();
  // Reads the error queue (bounded per call): an array of QueuedErrorValue entries,
  // or undefined when it was empty. *read counts the entries.
  Napi::Value ReadErrors(Napi::Env env, uint32_t* read);
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
  static void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* self);

  // Null once closed (a send batch in flight may still hold its own reference).
  std::shared_ptr<Descriptor> descriptor_;
  int Fd() const { return descriptor_ ? descriptor_->fd : -1; }
  int family_ = AF_INET;
  int protocol_ = 0;
  bool datagram_ = false;
  // An ordinary UDP socket (SOCK_DGRAM): sends need a port, messages carry their source port.
  bool udp_ = false;
  // IP_RECVERR / IPV6_RECVERR are on: the poll watcher always includes UV_PRIORITIZED.
  bool receiveErrors_ = false;
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

  uv_poll_t* poll_ = nullptr;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::FunctionReference onMessages_;
  Napi::FunctionReference onWritable_;
  Napi::FunctionReference onError_;
  Napi::FunctionReference onClose_;
  Napi::FunctionReference onIcmpErrors_;
  // Bytes of the original packets that error-queue entries return (bufferSize_, on first use).
  std::vector<uint8_t> errorData_;

  // Receive batch storage, allocated once: recvmmsg fills up to batchSize_
  // datagrams of bufferSize_ bytes per system call.
  size_t batchSize_ = 1;
  std::vector<uint8_t> receiveBuffers_;
  std::vector<sockaddr_storage> receiveAddresses_;
  std::vector<uint8_t> receiveControl_;
  std::vector<iovec> receiveVectors_;
#ifdef __linux__
  std::vector<mmsghdr> messages_;
#else
  struct SingleMessage {
    msghdr msg_hdr;
    unsigned int msg_len;
  };
  std::vector<SingleMessage> messages_;
#endif


  // Last parsed destination: most sends repeat the previous address.
  std::string lastAddressText_;
  sockaddr_storage lastAddress_{};
  socklen_t lastAddressLength_ = 0;
};

}  // namespace rawsocket
