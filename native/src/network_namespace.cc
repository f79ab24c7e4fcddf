#include "network_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "system_error.h"

namespace rawsocket {

bool ValidNamespaceName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.') return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

Napi::Error NamespaceError(Napi::Env env, int error, const char* syscall, const std::string& what) {
  Napi::Error failure = SystemError(env, error, syscall);
  std::string message = what + " (" + syscall + ": " + std::strerror(error) + ")";
  if (error == EPERM) message += ": entering a network namespace needs root or CAP_SYS_ADMIN";
  failure.Value().Set("message", Napi::String::New(env, message));
  return failure;
}

}  // namespace

NamespaceScope::NamespaceScope(Napi::Env env, const std::string& name) {
  if (name.empty()) return;
#ifdef __linux__
  if (!ValidNamespaceName(name)) throw Napi::RangeError::New(env, "The \"namespace\" option must be a name in /run/netns");
  // The thread's own namespace, not the process's: another thread may have moved.
  const int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) throw NamespaceError(env, errno, "open", "Cannot open this thread's network namespace");
  // O_NOFOLLOW: a symlink planted in /run/netns cannot point elsewhere.
  const int lab = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (lab < 0) {
    const int error = errno;
    close(home);
    throw NamespaceError(env, error, "open", "Cannot open network namespace '" + name + "' (/run/netns/" + name + ")");
  }
  const int entered = setns(lab, CLONE_NEWNET);
  const int error = errno;
  close(lab);
  if (entered != 0) {
    close(home);
    throw NamespaceError(env, error, "setns", "Cannot enter network namespace '" + name + "'");
  }
  home_ = home;
#else
  throw NamespaceError(env, ENOSYS, "setns", "Network namespaces exist only on Linux");
#endif
}

int NamespaceScope::Return() {
  if (home_ < 0) return 0;
#ifdef __linux__
  const int error = setns(home_, CLONE_NEWNET) == 0 ? 0 : errno;
#else
  const int error = 0;
#endif
  close(home_);
  home_ = -1;
  return error;
}

void NamespaceScope::Leave(Napi::Env env) {
  const int error = Return();
  if (error != 0) throw NamespaceError(env, error, "setns", "Cannot return to the thread's own network namespace");
}

NamespaceScope::~NamespaceScope() { Return(); }

}  // namespace rawsocket
