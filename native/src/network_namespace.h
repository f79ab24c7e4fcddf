// Opening a socket inside another network namespace (a lab host's, /run/netns/NAME):
// the calling thread enters it with setns(CLONE_NEWNET) for the socket() call and
// returns at once. A socket belongs to the namespace it was created in for good, so
// everything it sends, receives or binds to afterwards is that namespace's.
#pragma once
#include <napi.h>

#include <string>

namespace rawsocket {

// 1 to 64 bytes of [A-Za-z0-9_.-], not starting with '.': a file name directly in
// /run/netns (no '/', never '.' or '..').
bool ValidNamespaceName(const std::string& name);

// Inside the named namespace for its lifetime, on the calling thread. The constructor
// throws a system error (errno, code, syscall, the name in the message) when the
// namespace cannot be opened or entered; Leave() throws when the way back fails.
// An empty name enters nothing.
class NamespaceScope {
 public:
  NamespaceScope(Napi::Env env, const std::string& name);
  ~NamespaceScope();
  NamespaceScope(const NamespaceScope&) = delete;
  NamespaceScope& operator=(const NamespaceScope&) = delete;

  // Back to the thread's own namespace now (the destructor does it too, silently).
  void Leave(Napi::Env env);

 private:
  // 0, or the errno of the setns back.
  int Return();
  int home_ = -1;
};

}  // namespace rawsocket
