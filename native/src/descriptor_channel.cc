#include "descriptor_channel.h"

namespace rawsocket {

void RegisterDescriptorChannel(Napi::Env env, Napi::Object exports) {}

}  // namespace rawsocket
