// Argument checks shared by every addon function. Each throws a TypeError for a
// wrong type and a RangeError for a value out of range, naming the argument; the
// JS layer checks first, but the addon never trusts its caller.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace rawsocket {

// A view of bytes[offset, offset + length) inside a Uint8Array argument.
struct ByteRange {
  uint8_t* data;
  size_t length;
};

// info[index] must be a Uint8Array (Buffer included); info[index+1] and
// info[index+2] the offset and length, integers with offset + length <= byteLength.
ByteRange ByteRangeArgument(const Napi::CallbackInfo& info, size_t index, const char* name);

// A whole number in [min, max] at info[index].
int64_t IntegerArgument(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min,
                        int64_t max);

// Same checks for a property value (name says where it came from).
int64_t IntegerValue(Napi::Env env, Napi::Value value, const std::string& name, int64_t min,
                     int64_t max);

bool BooleanArgument(const Napi::CallbackInfo& info, size_t index, const char* name);

Napi::Uint8Array Uint8ArrayValue(Napi::Env env, Napi::Value value, const std::string& name);

}  // namespace rawsocket
