// TCP connect() probes for unprivileged TCP traceroute. One socket per probe: a
// non-blocking connect() with the probe's TTL and IP_RECVERR on. A router where the
// TTL runs out answers with Time Exceeded, which Linux puts on the socket's error
// queue (with the router as SO_EE_OFFENDER) and which also ends the connect; the
// target answers SYN-ACK (open) or RST (refused). One socket per probe also keeps
// one probe's pending error (sk_err) from failing the next.
#include "connect_probe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "arguments.h"
#include "system_error.h"

namespace rawsocket {

namespace {

enum Outcome { kOpen = 0, kRefused = 1, kIcmpError = 2, kTimeout = 3 };

constexpr int64_t kMaxTimeoutMs = 60000;
// Bytes of the original packet kept from an error-queue entry (a TCP header and options).
constexpr size_t kErrorDataSize = 512;
// Poll wake-ups in a row that find no result before the probe waits for its timer only.
constexpr uint32_t kMaxFruitlessWakeups = 16;

uint64_t RealtimeNanoseconds() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
}

// Parses an IPv4 or IPv6 literal (IPv6 with an optional %scope); false when it is neither.
bool ParseLiteral(const std::string& text, uint16_t port, sockaddr_storage* out, socklen_t* length) {
  std::memset(out, 0, sizeof *out);
  sockaddr_in* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *length = sizeof(sockaddr_in);
    return true;
  }
  sockaddr_in6* v6 = reinterpret_cast<sockaddr_in6*>(out);
  std::string host = text;
  std::string scope;
  const size_t percent = host.find('%');
  if (percent != std::string::npos) {
    scope = host.substr(percent + 1);
    host.resize(percent);
    if (scope.empty()) return false;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) != 1) return false;
  if (!scope.empty()) {
    char* end = nullptr;
    unsigned long index = std::strtoul(scope.c_str(), &end, 10);
    if (end == nullptr || *end != '\0') index = if_nametoindex(scope.c_str());
    if (index == 0) return false;
    v6->sin6_scope_id = static_cast<uint32_t>(index);
  }
  v6->sin6_family = AF_INET6;
  v6->sin6_port = htons(port);
  *length = sizeof(sockaddr_in6);
  return true;
}

// One probe in flight. It owns its socket, a poll watcher and a timer on the
// environment's loop; it is deleted when both handles have closed.
class ConnectProbe {
 public:
  ConnectProbe(Napi::Env env, Napi::Function callback) : env_(env) {
    callback_ = Napi::Persistent(callback);
    context_ = std::make_unique<Napi::AsyncContext>(env, "ConnectProbe");
  }

  ~ConnectProbe() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Opens the socket and starts the connect; throws (and closes what it opened) on failure.
  void Start(const sockaddr_storage& address, socklen_t addressLength, int ttl, uint64_t timeoutMs, bool timestamps) {
    Napi::Env env = env_;
    const int family = address.ss_family;
#ifdef SOCK_NONBLOCK
    fd_ = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else
    fd_ = socket(family, SOCK_STREAM, 0);
    if (fd_ >= 0) {
      fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
      fcntl(fd_, F_SETFD, FD_CLOEXEC);
    }
#endif
    if (fd_ < 0) throw SystemError(env, errno, "socket");
    const int hops = ttl;
    const int ttlResult = family == AF_INET ? setsockopt(fd_, IPPROTO_IP, IP_TTL, &hops, sizeof hops)
                                            : setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
    if (ttlResult < 0) throw SystemError(env, errno, "setsockopt");
    // TCP's poll never adds POLLPRI, so SO_SELECT_ERR_QUEUE would not help here.
    const int queueError = EnableErrorQueue(fd_, family, false);
    if (queueError != 0) throw SystemError(env, queueError, "setsockopt");
    if (timestamps) {
      const int on = 1;
#ifdef SO_TIMESTAMPNS
      const int option = SO_TIMESTAMPNS;
#else
      const int option = SO_TIMESTAMP;
#endif
      if (setsockopt(fd_, SOL_SOCKET, option, &on, sizeof on) < 0) throw SystemError(env, errno, "setsockopt");
    }

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "No event loop");
    int error = uv_timer_init(loop, &timer_);
    if (error != 0) throw SystemError(env, -error, "uv_timer_init");
    timer_.data = this;
    timerOpen_ = true;
    handles_++;
    napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, this, &cleanupHook_);

    sentAt_ = RealtimeNanoseconds();
    int connected = connect(fd_, reinterpret_cast<const sockaddr*>(&address), addressLength);
    const int connectErrno = connected < 0 ? errno : 0;
    LocalPort();
    if (connected < 0 && connectErrno != EINPROGRESS) {
      // Failed at once (no route, refused on the spot…): the result waits for the next
      // turn of the loop, like every other, so the callback never runs inside this call.
      if (connectErrno == ECONNREFUSED) {
        immediate_ = kRefused;
      } else {
        immediateErrno_ = connectErrno;
      }
      uv_timer_start(&timer_, OnTimer, 0, 0);
      return;
    }
    error = uv_poll_init(loop, &poll_, fd_);
    if (error != 0) throw SystemError(env, -error, "uv_poll_init");
    poll_.data = this;
    handles_++;
    pollOpen_ = true;
    // Completion (SYN-ACK or RST) makes the socket writable; an ICMP error or a reset
    // makes it report POLLERR, which libuv passes on as status UV_EBADF.
    error = uv_poll_start(&poll_, UV_WRITABLE, OnPoll);
    if (error != 0) throw SystemError(env, -error, "uv_poll_start");
    uv_timer_start(&timer_, OnTimer, timeoutMs, 0);
  }

  // Start failed: close whatever handles exist; the probe deletes itself after.
  void Abandon() {
    settled_ = true;
    CloseHandles();
  }

 private:
  static void OnPoll(uv_poll_t* handle, int status, int events) {
    ConnectProbe* self = static_cast<ConnectProbe*>(handle->data);
    if (self == nullptr || self->settled_) return;
    try {
      if (!self->Check(false) && status < 0) {
        // libuv stopped the watcher on POLLERR that held no result yet: go on waiting,
        // boundedly; after that only the timer decides.
        if (++self->fruitlessWakeups_ <= kMaxFruitlessWakeups) uv_poll_start(&self->poll_, UV_WRITABLE, OnPoll);
      }
    } catch (...) {
      // Nothing may unwind through libuv.
    }
  }

  static void OnTimer(uv_timer_t* handle) {
    ConnectProbe* self = static_cast<ConnectProbe*>(handle->data);
    if (self == nullptr || self->settled_) return;
    try {
      if (self->immediateErrno_ != 0) {
        self->Fail(self->immediateErrno_, "connect");
      } else if (self->immediate_ >= 0) {
        self->Settle(static_cast<Outcome>(self->immediate_), nullptr, 0);
      } else {
        self->Check(true);
      }
    } catch (...) {
    }
  }

  void LocalPort() {
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) return;
    if (local.ss_family == AF_INET) localPort_ = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    if (local.ss_family == AF_INET6) localPort_ = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
  }

  // Looks for a result: an error-queue entry, then the connect's own outcome. final:
  // the timer ran out, so no result means a timeout. Returns whether it settled.
  bool Check(bool final) {
    QueuedError queued;
    uint8_t data[kErrorDataSize];
    if (ReadQueuedError(fd_, data, sizeof data, &queued) == 1) {
      Settle(kIcmpError, &queued, data);
      return true;
    }
    int pending = 0;
    socklen_t length = sizeof pending;
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &pending, &length) < 0) pending = errno;
    if (pending == ECONNREFUSED) {
      Settle(kRefused, nullptr, nullptr);
      return true;
    }
    if (pending != 0) {
      Fail(pending, "connect");
      return true;
    }
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof peer;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &peerLength) == 0) {
      Settle(kOpen, nullptr, nullptr);
      return true;
    }
    if (final) {
      Settle(kTimeout, nullptr, nullptr);
      return true;
    }
    return false;
  }

  void Settle(Outcome outcome, const QueuedError* queued, const uint8_t* data) {
    if (settled_) return;
    settled_ = true;
    const uint64_t seenAt = RealtimeNanoseconds();
    if (outcome == kOpen) {
      // Reset instead of a FIN: the target forgets the connection at once and we keep no TIME_WAIT.
      linger abort{1, 0};
      setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
    }
    CloseHandles();
    Napi::Env env = env_;
    Napi::HandleScope scope(env);
    Napi::Array result = Napi::Array::New(env, 5);
    result.Set(0u, Napi::Number::New(env, outcome));
    result.Set(1u, Napi::BigInt::New(env, sentAt_));
    if (outcome == kTimeout) {
      result.Set(2u, env.Undefined());
    } else {
      const bool kernelTime = queued != nullptr && queued->hasTimestamp;
      result.Set(2u, Napi::BigInt::New(env, kernelTime ? queued->timestamp : seenAt));
    }
    result.Set(3u, Napi::Number::New(env, localPort_));
    result.Set(4u, queued != nullptr ? QueuedErrorValue(env, *queued, data) : env.Undefined());
    Call({env.Null(), result});
  }

  void Fail(int errnum, const char* syscall) {
    if (settled_) return;
    settled_ = true;
    CloseHandles();
    Napi::HandleScope scope(env_);
    Call({SystemError(env_, errnum, syscall).Value()});
  }

  void Call(const std::initializer_list<napi_value>& args) {
    try {
      callback_.MakeCallback(Napi::Object::New(env_), args, *context_);
    } catch (const Napi::Error&) {
      // The JS side settles a Promise and does not throw; nothing may unwind into libuv.
    }
    callback_.Reset();
    context_.reset();
  }

  // Closes the handles (the probe is deleted when the last one has closed) and the socket.
  void CloseHandles() {
    if (pollOpen_) {
      pollOpen_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&poll_), OnHandleClosed);
    }
    if (timerOpen_) {
      timerOpen_ = false;
      uv_close(reinterpret_cast<uv_handle_t*>(&timer_), OnHandleClosed);
    }
    // uv_close stopped the watcher: the descriptor may go now.
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (handles_ == 0) Finish();
  }

  static void OnHandleClosed(uv_handle_t* handle) {
    ConnectProbe* self = static_cast<ConnectProbe*>(handle->data);
    if (--self->handles_ == 0) self->Finish();
  }

  void Finish() {
    if (cleanupHook_ != nullptr) {
      napi_remove_async_cleanup_hook(cleanupHook_);
      cleanupHook_ = nullptr;
    }
    delete this;
  }

  // Worker termination or process exit with the probe pending: close everything and
  // never call into JS.
  static void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* data) {
    ConnectProbe* self = static_cast<ConnectProbe*>(data);
    self->cleanupHook_ = hook;
    if (self->settled_) return;  // handles are closing; Finish removes the hook
    self->settled_ = true;
    self->CloseHandles();
  }

  Napi::Env env_;
  Napi::FunctionReference callback_;
  std::unique_ptr<Napi::AsyncContext> context_;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  uv_poll_t poll_{};
  uv_timer_t timer_{};
  int handles_ = 0;  // initialised and not yet closed
  bool pollOpen_ = false;
  bool timerOpen_ = false;
  bool settled_ = false;
  int fd_ = -1;
  int immediate_ = -1;
  int immediateErrno_ = 0;
  uint32_t fruitlessWakeups_ = 0;
  uint64_t sentAt_ = 0;
  uint16_t localPort_ = 0;
};

// connectProbe({address, port, ttl, timeout, timestamps}, done(error, result)): see lib/connect-probe.ts.
Napi::Value StartConnectProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "The \"options\" argument must be an object");
  Napi::Object options = info[0].As<Napi::Object>();
  Napi::Value addressValue = options.Get("address");
  if (!addressValue.IsString()) throw Napi::TypeError::New(env, "The \"address\" option must be a string");
  const int64_t port = IntegerValue(env, options.Get("port"), "port", 1, 65535);
  const int64_t ttl = IntegerValue(env, options.Get("ttl"), "ttl", 1, 255);
  const int64_t timeout = IntegerValue(env, options.Get("timeout"), "timeout", 1, kMaxTimeoutMs);
  Napi::Value timestamps = options.Get("timestamps");
  if (!timestamps.IsBoolean()) throw Napi::TypeError::New(env, "The \"timestamps\" option must be a boolean");
  if (!info[1].IsFunction()) throw Napi::TypeError::New(env, "The \"done\" argument must be a function");
  const std::string text = addressValue.As<Napi::String>().Utf8Value();
  sockaddr_storage address;
  socklen_t addressLength = 0;
  if (text.size() > INET6_ADDRSTRLEN + IF_NAMESIZE || text.find('\0') != std::string::npos || !ParseLiteral(text, static_cast<uint16_t>(port), &address, &addressLength)) {
    throw Napi::RangeError::New(env, "The \"address\" option must be an IPv4 or IPv6 address");
  }
  ConnectProbe* probe = new ConnectProbe(env, info[1].As<Napi::Function>());
  try {
    probe->Start(address, addressLength, static_cast<int>(ttl), static_cast<uint64_t>(timeout),
                 timestamps.As<Napi::Boolean>().Value());
  } catch (...) {
    probe->Abandon();  // closes its socket and handles; deletes itself once they are closed
    throw;
  }
  return env.Undefined();
}

}  // namespace

void RegisterConnectProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("connectProbe", Napi::Function::New(env, StartConnectProbe, "connectProbe"));
}

}  // namespace rawsocket
