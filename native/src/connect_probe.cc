#include "connect_probe.h"

namespace rawsocket {

void RegisterConnectProbe(Napi::Env env, Napi::Object exports) {}

}  // namespace rawsocket
