// A Unix SOCK_SEQPACKET channel that carries short messages and descriptors
// (SCM_RIGHTS): the workbench's side of the socket helper's control channel.
#pragma once
#include <napi.h>

namespace rawsocket {

void RegisterDescriptorChannel(Napi::Env env, Napi::Object exports);

}  // namespace rawsocket
