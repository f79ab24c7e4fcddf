#include "system_error.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace rawsocket {

const char* ErrnoName(int errnum) {
#if defined(__GLIBC__) && ((__GLIBC__ > 2) || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char* name = strerrorname_np(errnum);
  if (name != nullptr) return name;
#endif
  switch (errnum) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EMSGSIZE: return "EMSGSIZE";
    case ENETUNREACH: return "ENETUNREACH";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENODEV: return "ENODEV";
    default: return nullptr;
  }
}

Napi::Error SystemError(Napi::Env env, int errnum, const char* syscall) {
  std::string message = std::string(syscall) + ": " + std::strerror(errnum);
  Napi::Error error = Napi::Error::New(env, message);
  Napi::Object object = error.Value();
  const char* name = ErrnoName(errnum);
  object.Set("errno", Napi::Number::New(env, errnum));
  object.Set("code", Napi::String::New(env, name ? name : ("E" + std::to_string(errnum)).c_str()));
  object.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

}  // namespace rawsocket
