// Errors thrown by the addon: TypeError/RangeError for bad arguments, and
// system errors that carry errno, code and syscall like Node's own.
#pragma once
#include <napi.h>

namespace rawsocket {

// An Error for a failed system call: message "syscall: strerror", plus
// properties errno (positive, as in os.constants.errno), code ('EPERM') and syscall.
Napi::Error SystemError(Napi::Env env, int errnum, const char* syscall);

// The symbolic name of an errno value ("EPERM"), or "E<number>" when unknown.
const char* ErrnoName(int errnum);

}  // namespace rawsocket
