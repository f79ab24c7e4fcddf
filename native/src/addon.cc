// Addon entry: the RawSocket class, the checksum kernel and the OS's constants.
// Context-aware (Node-API), so it loads in worker threads and in Electron; all
// per-environment state lives in instance data, none in statics.
#include <napi.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bpf.h"
#include "checksum.h"
#include "connect_probe.h"
#include "descriptor_channel.h"
#include "raw_socket.h"
#include "addon_data.h"

namespace rawsocket {

Napi::Object SocketLevels(Napi::Env env) {
  Napi::Object levels = Napi::Object::New(env);
  levels.Set("SOL_SOCKET", Napi::Number::New(env, SOL_SOCKET));
  levels.Set("IPPROTO_IP", Napi::Number::New(env, IPPROTO_IP));
  levels.Set("IPPROTO_IPV6", Napi::Number::New(env, IPPROTO_IPV6));
  return levels;
}

Napi::Object SocketOptions(Napi::Env env) {
  Napi::Object options = Napi::Object::New(env);
  options.Set("SO_RCVBUF", Napi::Number::New(env, SO_RCVBUF));
  options.Set("SO_RCVTIMEO", Napi::Number::New(env, SO_RCVTIMEO));
  options.Set("SO_SNDBUF", Napi::Number::New(env, SO_SNDBUF));
  options.Set("SO_SNDTIMEO", Napi::Number::New(env, SO_SNDTIMEO));
  options.Set("IP_HDRINCL", Napi::Number::New(env, IP_HDRINCL));
  options.Set("IP_OPTIONS", Napi::Number::New(env, IP_OPTIONS));
  options.Set("IP_TOS", Napi::Number::New(env, IP_TOS));
  options.Set("IP_TTL", Napi::Number::New(env, IP_TTL));
  // No OS defines IPV6_TTL; raw-socket offers it as a synonym of IPV6_UNICAST_HOPS.
  options.Set("IPV6_TTL", Napi::Number::New(env, IPV6_UNICAST_HOPS));
  options.Set("IPV6_UNICAST_HOPS", Napi::Number::New(env, IPV6_UNICAST_HOPS));
  options.Set("IPV6_V6ONLY", Napi::Number::New(env, IPV6_V6ONLY));
#ifdef SO_BINDTODEVICE
  options.Set("SO_BINDTODEVICE", Napi::Number::New(env, SO_BINDTODEVICE));
#endif
// Linux (4.5+) too: an IPv6 raw socket whose packets carry their own IPv6 header.
#if (defined(_WIN32) || defined(__linux__)) && defined(IPV6_HDRINCL)
  options.Set("IPV6_HDRINCL", Napi::Number::New(env, IPV6_HDRINCL));
#endif
  return options;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Function rawSocket = RawSocket::Define(env);
  AddonData* data = new AddonData();
  data->rawSocketClass = Napi::Persistent(rawSocket);
  Napi::Array keys = Napi::Array::New(env, 5);
  keys.Set(0u, "buffer");
  keys.Set(1u, "offset");
  keys.Set(2u, "length");
  keys.Set(3u, "address");
  keys.Set(4u, "port");
  data->sendRequestKeys = Napi::Persistent(keys);
  env.SetInstanceData<AddonData>(data);
  exports.Set("RawSocket", rawSocket);
  napi_value checksumSum;
  NAPI_THROW_IF_FAILED(env, napi_create_function(env, "checksumSum", NAPI_AUTO_LENGTH, ChecksumSum, nullptr, &checksumSum),
                       exports);
  exports.Set("checksumSum", checksumSum);
  exports.Set("SocketLevel", SocketLevels(env));
  exports.Set("SocketOption", SocketOptions(env));
  RegisterConnectProbe(env, exports);
  RegisterDescriptorChannel(env, exports);
  RegisterFilters(env, exports);
  return exports;
}

}  // namespace rawsocket

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return rawsocket::Init(env, exports); }

NODE_API_MODULE(raw_socket, InitAddon)
