// A Unix SOCK_SEQPACKET channel that carries short messages and descriptors
// (SCM_RIGHTS): the workbench's side of the socket helper's control channel.
//
//   socketPair() -> [fd, fd]                AF_UNIX SOCK_SEQPACKET, both close-on-exec
//   new DescriptorChannel(fd, {onMessage(text, descriptor, problem), onClose(errno)})
//     takes ownership of fd (made non-blocking) and watches it with a uv_poll_t on
//     the environment's loop. onMessage gets each message's bytes and its descriptor
//     (-1 when none; the receiver owns it) plus problem: 0, EMSGSIZE (the text was
//     cut at 4096 bytes) or EPROTO (more than one descriptor, or control data cut: the
//     first descriptor is passed on, the others are closed). onClose runs once: 0 on end of channel or close(), else the errno.
//   send(bytes) -> bytes sent (throws a system error, e.g. EPIPE), close(), ref(), unref()
#pragma once
#include <napi.h>
#include <uv.h>

#include <memory>

namespace rawsocket {

class DescriptorChannel : public Napi::ObjectWrap<DescriptorChannel> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit DescriptorChannel(const Napi::CallbackInfo& info);
  ~DescriptorChannel() override;

 private:
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  // ref()/unref() in JS (ObjectWrap's own Ref/Unref count references).
  Napi::Value RefHandle(const Napi::CallbackInfo& info);
  Napi::Value UnrefHandle(const Napi::CallbackInfo& info);

  void StartClose(bool notify, int error);
  void OnReadable();
  void Notify(Napi::FunctionReference& handler, const std::initializer_list<napi_value>& args);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnEnvironmentTeardown(napi_async_cleanup_hook_handle hook, void* self);

  int fd_ = -1;
  bool closing_ = false;
  bool notifyClose_ = true;
  int closeError_ = 0;
  uv_poll_t* poll_ = nullptr;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  std::unique_ptr<Napi::AsyncContext> asyncContext_;
  Napi::FunctionReference onMessage_;
  Napi::FunctionReference onClose_;
};

void RegisterDescriptorChannel(Napi::Env env, Napi::Object exports);

}  // namespace rawsocket
