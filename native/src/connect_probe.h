// TCP connect() probes for unprivileged TCP traceroute (see connect_probe.cc).
#pragma once
#include <napi.h>

namespace rawsocket {

void RegisterConnectProbe(Napi::Env env, Napi::Object exports);

}  // namespace rawsocket
