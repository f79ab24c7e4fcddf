// Capture filters: tcpdump's filter language compiled to classic BPF by libpcap
// (loaded at run time), and SO_ATTACH_FILTER / SO_DETACH_FILTER on a descriptor.
#pragma once
#include <napi.h>

namespace rawsocket {

// Adds compileFilter, libpcapVersion, attachFilter and detachFilter to exports.
void RegisterFilters(Napi::Env env, Napi::Object exports);

}  // namespace rawsocket
