// Per-environment state of the addon (worker threads each get their own).
#pragma once
#include <napi.h>

namespace rawsocket {

struct AddonData {
  Napi::FunctionReference rawSocketClass;
  // ["buffer", "offset", "length", "address", "port"]: the property names read for every
  // send request, created once (a name looked up by C string costs a string-table
  // search per request). Node-API 8 cannot reference a string itself, so an array holds them.
  Napi::Reference<Napi::Array> sendRequestKeys;
};

}  // namespace rawsocket
