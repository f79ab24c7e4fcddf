#include "descriptor_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "arguments.h"
#include "system_error.h"

namespace rawsocket {

namespace {

// Bounds one wake-up's work; level-triggered polling brings us back for the rest.
constexpr int kMaxMessagesPerWakeup = 64;
constexpr size_t kReceiveSize = 4096;
// Room for this many descriptors per message: more than one is a protocol error,
// and what arrives is closed here (the kernel releases what does not fit).
constexpr size_t kDescriptorRoom = 8;
constexpr size_t kMaxSendSize = 65536;

#ifdef MSG_CMSG_CLOEXEC
constexpr int kReceiveFlags = MSG_DONTWAIT | MSG_CMSG_CLOEXEC;
#else
constexpr int kReceiveFlags = MSG_DONTWAIT;
#endif
#ifdef MSG_NOSIGNAL
constexpr int kSendFlags = MSG_DONTWAIT | MSG_NOSIGNAL;
#else
constexpr int kSendFlags = MSG_DONTWAIT;
#endif

bool SetCloseOnExec(int fd) {
  const int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0;
}

Napi::Function HandlerProperty(Napi::Env env, Napi::Object handlers, const char* name) {
  Napi::Value value = handlers.Get(name);
  if (!value.IsFunction()) throw Napi::TypeError::New(env, std::string("handlers.") + name + " must be a function");
  return value.As<Napi::Function>();
}

// socketPair(): [fd, fd], AF_UNIX SOCK_SEQPACKET, both close-on-exec and blocking.
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
#ifdef SOCK_CLOEXEC
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) throw SystemError(env, errno, "socketpair");
#else
  if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0) throw SystemError(env, errno, "socketpair");
  if (!SetCloseOnExec(fds[0]) || !SetCloseOnExec(fds[1])) {
    const int error = errno;
    close(fds[0]);
    close(fds[1]);
    throw SystemError(env, error, "fcntl");
  }
#endif
  Napi::Array pair = Napi::Array::New(env, 2);
  pair.Set(0u, Napi::Number::New(env, fds[0]));
  pair.Set(1u, Napi::Number::New(env, fds[1]));
  return pair;
}

}  // namespace

Napi::Function DescriptorChannel::Define(Napi::Env env) {
  return DefineClass(env, "DescriptorChannel",
                     {
                         InstanceMethod<&DescriptorChannel::Send>("send"),
                         InstanceMethod<&DescriptorChannel::Close>("close"),
                         InstanceMethod<&DescriptorChannel::RefHandle>("ref"),
                         InstanceMethod<&DescriptorChannel::UnrefHandle>("unref"),
                     });
}

DescriptorChannel::DescriptorChannel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DescriptorChannel>(info) {
  Napi::Env env = info.Env();
  const int fd = static_cast<int>(IntegerArgument(info, 0, "fd", 0, INT32_MAX));
  if (!info[1].IsObject()) throw Napi::TypeError::New(env, "The \"handlers\" argument must be an object");
  Napi::Object handlers = info[1].As<Napi::Object>();
  Napi::Function onMessage = HandlerProperty(env, handlers, "onMessage");
  Napi::Function onClose = HandlerProperty(env, handlers, "onClose");

  // Only an AF_UNIX SOCK_SEQPACKET socket keeps message boundaries and descriptors together.
  struct stat status;
  if (fstat(fd, &status) != 0) throw SystemError(env, errno, "fstat");
  sockaddr_storage address{};
  socklen_t addressLength = sizeof address;
  int type = 0;
  socklen_t typeLength = sizeof type;
  if (!S_ISSOCK(status.st_mode) || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &addressLength) != 0 ||
      address.ss_family != AF_UNIX || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) != 0 ||
      type != SOCK_SEQPACKET) {
    throw Napi::RangeError::New(env, "The \"fd\" argument must be an AF_UNIX SOCK_SEQPACKET socket");
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || !SetCloseOnExec(fd)) {
    throw SystemError(env, errno, "fcntl");
  }

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw SystemError(env, EINVAL, "napi_get_uv_event_loop");
  poll_ = new uv_poll_t;
  int pollError = uv_poll_init(loop, poll_, fd);
  if (pollError != 0) {
    delete poll_;
    poll_ = nullptr;
    throw SystemError(env, -pollError, "uv_poll_init");
  }
  poll_->data = this;
  pollError = uv_poll_start(poll_, UV_READABLE, OnPoll);
  if (pollError != 0) {
    poll_->data = nullptr;  // an initialised handle is closed through the loop
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
    poll_ = nullptr;
    throw SystemError(env, -pollError, "uv_poll_start");
  }
  // The channel owns the descriptor from here on (on a throw above, the caller still does).
  fd_ = fd;
  onMessage_ = Napi::Persistent(onMessage);
  onClose_ = Napi::Persistent(onClose);
  asyncContext_ = std::make_unique<Napi::AsyncContext>(env, "DescriptorChannel", info.This().As<Napi::Object>());
  napi_add_async_cleanup_hook(env, OnEnvironmentTeardown, this, &cleanupHook_);
  // Open channels stay alive (not collected) until closed.
  Napi::ObjectWrap<DescriptorChannel>::Ref();
}

DescriptorChannel::~DescriptorChannel() {
  if (poll_ != nullptr && !closing_) {
    poll_->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

// send(bytes: Uint8Array) -> bytes sent: one message.
Napi::Value DescriptorChannel::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = Uint8ArrayValue(env, info[0], "buffer");
  if (bytes.ByteLength() > kMaxSendSize) {
    throw Napi::RangeError::New(env, "The \"buffer\" argument must be at most " + std::to_string(kMaxSendSize) + " bytes");
  }
  if (fd_ < 0 || closing_) {
    Napi::Error error = Napi::Error::New(env, "Cannot send: the channel is closed");
    error.Value().Set("code", Napi::String::New(env, "ERR_SOCKET_CLOSED"));
    throw error;
  }
  for (;;) {
    const ssize_t sent = ::send(fd_, bytes.Data(), bytes.ByteLength(), kSendFlags);
    if (sent >= 0) return Napi::Number::New(env, static_cast<double>(sent));
    if (errno != EINTR) throw SystemError(env, errno, "sendmsg");
  }
}

Napi::Value DescriptorChannel::Close(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr && !closing_) StartClose(true, 0);
  return info.Env().Undefined();
}

Napi::Value DescriptorChannel::RefHandle(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr && !closing_) uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

Napi::Value DescriptorChannel::UnrefHandle(const Napi::CallbackInfo& info) {
  if (poll_ != nullptr && !closing_) uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  return info.Env().Undefined();
}

void DescriptorChannel::StartClose(bool notify, int error) {
  closing_ = true;
  notifyClose_ = notify;
  closeError_ = error;
  // uv_close stops the watcher before the descriptor goes away.
  uv_close(reinterpret_cast<uv_handle_t*>(poll_), OnHandleClosed);
  ::close(fd_);
  fd_ = -1;
}

void DescriptorChannel::OnHandleClosed(uv_handle_t* handle) {
  DescriptorChannel* self = static_cast<DescriptorChannel*>(handle->data);
  delete reinterpret_cast<uv_poll_t*>(handle);
  if (self == nullptr) return;
  self->poll_ = nullptr;
  if (self->cleanupHook_ != nullptr) {
    napi_remove_async_cleanup_hook(self->cleanupHook_);
    self->cleanupHook_ = nullptr;
  }
  if (!self->notifyClose_) return;  // environment teardown: no JS may run
  {
    Napi::HandleScope scope(self->Env());
    self->Notify(self->onClose_, {Napi::Number::New(self->Env(), self->closeError_)});
  }
  self->onMessage_.Reset();
  self->onClose_.Reset();
  self->asyncContext_.reset();
  self->Napi::ObjectWrap<DescriptorChannel>::Unref();
}

void DescriptorChannel::OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* data) {
  DescriptorChannel* self = static_cast<DescriptorChannel*>(data);
  self->cleanupHook_ = hook;
  self->notifyClose_ = false;
  if (self->poll_ == nullptr) {
    napi_remove_async_cleanup_hook(hook);
    self->cleanupHook_ = nullptr;
  } else if (!self->closing_) {
    self->StartClose(false, 0);
  }
}

void DescriptorChannel::Notify(Napi::FunctionReference& handler, const std::initializer_list<napi_value>& args) {
  if (handler.IsEmpty() || !asyncContext_) return;
  try {
    handler.MakeCallback(Value(), args, *asyncContext_);
  } catch (const Napi::Error&) {
    // A throwing handler must never unwind into libuv.
  }
}

void DescriptorChannel::OnPoll(uv_poll_t* handle, int status, int events) {
  DescriptorChannel* self = static_cast<DescriptorChannel*>(handle->data);
  if (self == nullptr || self->closing_) return;
  try {
    Napi::HandleScope scope(self->Env());
    if (status < 0) {
      self->StartClose(true, -status);
      return;
    }
    self->OnReadable();
  } catch (...) {
    // Nothing may unwind through libuv.
  }
}

void DescriptorChannel::OnReadable() {
  Napi::Env env = Env();
  for (int round = 0; round < kMaxMessagesPerWakeup && !closing_; round++) {
    char data[kReceiveSize];
    iovec vector{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kDescriptorRoom)];
    msghdr header{};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    const ssize_t received = recvmsg(fd_, &header, kReceiveFlags);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      StartClose(true, errno);
      return;
    }
    // The first descriptor goes to JS; any others are closed here.
    int descriptor = -1;
    size_t descriptors = 0;
    for (cmsghdr* message = CMSG_FIRSTHDR(&header); message != nullptr; message = CMSG_NXTHDR(&header, message)) {
      if (message->cmsg_level != SOL_SOCKET || message->cmsg_type != SCM_RIGHTS) continue;
      const size_t count = (message->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; i++) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(message) + i * sizeof(int), sizeof fd);
#ifndef MSG_CMSG_CLOEXEC
        SetCloseOnExec(fd);
#endif
        if (descriptors++ == 0) {
          descriptor = fd;
        } else {
          ::close(fd);
        }
      }
    }
    if (received == 0 && descriptors == 0) {
      // End of channel, or an empty message: only a hang-up tells them apart.
      pollfd check{fd_, 0, 0};  // POLLHUP and POLLERR are always reported
      if (poll(&check, 1, 0) < 0 || (check.revents & (POLLHUP | POLLERR))) {
        StartClose(true, 0);
        return;
      }
    }
    int problem = 0;
    if (descriptors > 1 || (header.msg_flags & MSG_CTRUNC)) {
      problem = EPROTO;
    } else if (header.msg_flags & MSG_TRUNC) {
      problem = EMSGSIZE;
    }
    Napi::HandleScope scope(env);
    const size_t length = std::min<size_t>(static_cast<size_t>(received), sizeof data);
    Notify(onMessage_, {Napi::Buffer<char>::Copy(env, data, length), Napi::Number::New(env, descriptor),
                        Napi::Number::New(env, problem)});
  }
}

void RegisterDescriptorChannel(Napi::Env env, Napi::Object exports) {
  exports.Set("DescriptorChannel", DescriptorChannel::Define(env));
  Napi::Function socketPair = Napi::Function::New(env, SocketPair, "socketPair");
  exports.Set("socketPair", socketPair);
}

}  // namespace rawsocket
