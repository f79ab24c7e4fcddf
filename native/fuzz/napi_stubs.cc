// checksum.cc holds both OnesComplementSum (fuzzed) and its Node-API entry point
// ChecksumSum (not called here): these stand in for the Node-API functions the entry
// point names, so the harness links without Node. Reaching one is a harness bug.
#include <node_api.h>

#include <cstdlib>

extern "C" {
napi_status napi_get_cb_info(napi_env, napi_callback_info, size_t*, napi_value*, napi_value*, void**) { std::abort(); }
napi_status napi_get_typedarray_info(napi_env, napi_value, napi_typedarray_type*, size_t*, void**, napi_value*, size_t*) {
  std::abort();
}
napi_status napi_throw_type_error(napi_env, const char*, const char*) { std::abort(); }
napi_status napi_throw_range_error(napi_env, const char*, const char*) { std::abort(); }
napi_status napi_get_value_double(napi_env, napi_value, double*) { std::abort(); }
napi_status napi_create_uint32(napi_env, uint32_t, napi_value*) { std::abort(); }
}
