#include "arguments.h"

#include <cmath>

#include "request_checks.h"

namespace rawsocket {

int64_t IntegerValue(Napi::Env env, Napi::Value value, const std::string& name, int64_t min,
                     int64_t max) {
  if (!value.IsNumber()) {
    throw Napi::TypeError::New(env, "The \"" + name + "\" argument must be a number");
  }
  double number = value.As<Napi::Number>().DoubleValue();
  if (!IsIntegerIn(number, min, max)) {
    throw Napi::RangeError::New(env, "The \"" + name + "\" argument must be an integer from " +
                                         std::to_string(min) + " to " + std::to_string(max));
  }
  return static_cast<int64_t>(number);
}

int64_t IntegerArgument(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min,
                        int64_t max) {
  return IntegerValue(info.Env(), info[index], name, min, max);
}

bool BooleanArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsBoolean()) {
    throw Napi::TypeError::New(info.Env(),
                               std::string("The \"") + name + "\" argument must be a boolean");
  }
  return info[index].As<Napi::Boolean>().Value();
}

Napi::Uint8Array Uint8ArrayValue(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsTypedArray() ||
      value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw Napi::TypeError::New(env, "The \"" + name + "\" argument must be a Buffer or Uint8Array");
  }
  return value.As<Napi::Uint8Array>();
}

ByteRange ByteRangeArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Env env = info.Env();
  Napi::Uint8Array bytes = Uint8ArrayValue(env, info[index], name);
  const int64_t size = static_cast<int64_t>(bytes.ByteLength());
  int64_t offset = IntegerArgument(info, index + 1, "offset", 0, size);
  int64_t length = IntegerArgument(info, index + 2, "length", 0, size);
  if (offset + length > size) {
    throw Napi::RangeError::New(env, "offset " + std::to_string(offset) + " plus length " +
                                         std::to_string(length) + " is past the end of the " +
                                         std::to_string(size) + "-byte " + name);
  }
  return ByteRange{bytes.Data() + offset, static_cast<size_t>(length)};
}

}  // namespace rawsocket
