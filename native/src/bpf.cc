// libpcap is opened with dlopen on first use, not linked: the addon builds without
// libpcap-dev and loads where libpcap is absent (only compileFilter then fails, with
// the package to install). The few declarations needed are written here; they are
// libpcap's stable ABI (pcap.h, bpf.h) since 0.8.
#include "bpf.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#ifdef __linux__
#include <linux/filter.h>
#endif

#include "arguments.h"
#include "system_error.h"

namespace rawsocket {

namespace {

struct PcapInstruction {  // struct bpf_insn
  uint16_t code;
  uint8_t jt;
  uint8_t jf;
  uint32_t k;
};
struct PcapProgram {  // struct bpf_program
  unsigned int length;
  PcapInstruction* instructions;
};
struct PcapHandle;  // pcap_t, opaque

struct Pcap {
  PcapHandle* (*openDead)(int linkType, int snapLength);
  int (*compile)(PcapHandle*, PcapProgram*, const char* expression, int optimize, uint32_t netmask);
  void (*freeCode)(PcapProgram*);
  char* (*getErr)(PcapHandle*);
  void (*close)(PcapHandle*);
  const char* (*libVersion)();
};

constexpr uint32_t kNetmaskUnknown = 0xffffffff;  // PCAP_NETMASK_UNKNOWN
constexpr size_t kMaxExpression = 65536;
constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS: the kernel refuses longer programs

const char* const kLibraryNames[] = {
#ifdef __APPLE__
    "libpcap.A.dylib", "libpcap.dylib",
#else
    "libpcap.so.1", "libpcap.so.0.8", "libpcap.so",
#endif
};

// The library is process-wide (dlopen handles are refcounted by the loader and
// never closed here), so one load serves every environment and worker thread.
std::once_flag loadOnce;
Pcap pcap{};
bool pcapLoaded = false;
std::string loadFailure;
// pcap_compile was not thread-safe before libpcap 1.8 (a global lexer state);
// worker threads may compile at once.
std::mutex compileLock;

template <typename T>
bool Resolve(void* library, const char* name, T* out) {
  void* symbol = dlsym(library, name);
  if (symbol == nullptr) return false;
  *out = reinterpret_cast<T>(symbol);
  return true;
}

void Load() {
  std::string tried;
  for (const char* name : kLibraryNames) {
    void* library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (library == nullptr) {
      const char* why = dlerror();
      tried += std::string(tried.empty() ? "" : "; ") + (why != nullptr ? why : name);
      continue;
    }
    Pcap loaded{};
    if (Resolve(library, "pcap_open_dead", &loaded.openDead) && Resolve(library, "pcap_compile", &loaded.compile) &&
        Resolve(library, "pcap_freecode", &loaded.freeCode) && Resolve(library, "pcap_geterr", &loaded.getErr) &&
        Resolve(library, "pcap_close", &loaded.close) && Resolve(library, "pcap_lib_version", &loaded.libVersion)) {
      pcap = loaded;
      pcapLoaded = true;
      return;
    }
    tried += std::string(tried.empty() ? "" : "; ") + name + " lacks a pcap_* function";
    dlclose(library);
  }
  loadFailure = tried;
}

bool EnsureLoaded(Napi::Env env) {
  std::call_once(loadOnce, Load);
  if (pcapLoaded) return true;
  Napi::Error error = Napi::Error::New(env, "libpcap could not be loaded: " + loadFailure);
  error.Set("code", Napi::String::New(env, "ERR_LIBPCAP_MISSING"));
  throw error;
}

std::string StringArgument(const Napi::CallbackInfo& info, size_t index, const char* name) {
  if (!info[index].IsString()) {
    throw Napi::TypeError::New(info.Env(), std::string("The \"") + name + "\" argument must be a string");
  }
  return info[index].As<Napi::String>().Utf8Value();
}

// compileFilter(expression, linkType, snapLength, optimize): a Buffer of struct
// bpf_insn (8 bytes each, host byte order), or libpcap's error text as a string.
Napi::Value CompileFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string expression = StringArgument(info, 0, "expression");
  if (expression.size() > kMaxExpression) {
    throw Napi::RangeError::New(env, "The \"expression\" argument is longer than " + std::to_string(kMaxExpression) + " bytes");
  }
  if (expression.find('\0') != std::string::npos) {
    throw Napi::TypeError::New(env, "The \"expression\" argument must not contain NUL characters");
  }
  int linkType = static_cast<int>(IntegerArgument(info, 1, "linkType", 0, 0xffff));
  int snapLength = static_cast<int>(IntegerArgument(info, 2, "snapLength", 1, 262144));
  bool optimize = BooleanArgument(info, 3, "optimize");
  EnsureLoaded(env);

  std::lock_guard<std::mutex> guard(compileLock);
  PcapHandle* handle = pcap.openDead(linkType, snapLength);
  if (handle == nullptr) throw Napi::Error::New(env, "pcap_open_dead failed (out of memory)");
  PcapProgram program{0, nullptr};
  Napi::Value result;
  if (pcap.compile(handle, &program, expression.c_str(), optimize ? 1 : 0, kNetmaskUnknown) != 0) {
    const char* message = pcap.getErr(handle);
    result = Napi::String::New(env, message != nullptr ? message : "unknown error");
  } else if (program.length > kMaxInstructions) {
    pcap.freeCode(&program);
    result = Napi::String::New(env, "the compiled program has " + std::to_string(program.length) +
                                         " instructions, more than the kernel's limit of " +
                                         std::to_string(kMaxInstructions));
  } else {
    result = Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(program.instructions),
                                         program.length * sizeof(PcapInstruction));
    pcap.freeCode(&program);
  }
  pcap.close(handle);
  return result;
}

Napi::Value LibpcapVersion(const Napi::CallbackInfo& info) {
  EnsureLoaded(info.Env());
  return Napi::String::New(info.Env(), pcap.libVersion());
}

#ifdef __linux__
// Discards what waits in the receive queue (MSG_DONTWAIT until EAGAIN; bounded:
// the queue is bounded by the receive buffer, the count by this).
void DrainReceiveQueue(int fd) {
  uint8_t byte;
  for (int i = 0; i < 1000000; i++) {
    ssize_t n = recv(fd, &byte, sizeof byte, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0 && errno != EINTR) return;
  }
}

int Attach(int fd, sock_filter* instructions, size_t count) {
  sock_fprog program{static_cast<unsigned short>(count), instructions};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program);
}
#endif

// attachFilter(descriptor, program, drain): SO_ATTACH_FILTER with program (struct
// sock_filter[], 8 bytes each). With drain, packets already queued (accepted by no
// or another filter) are discarded first, as libpcap does, so every packet read
// afterwards passed this filter: a reject-all filter goes on, the queue is emptied,
// then the program replaces it.
Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(IntegerArgument(info, 0, "descriptor", 0, 0x7fffffff));
  Napi::Uint8Array bytes = Uint8ArrayValue(env, info[1], "program");
  bool drain = BooleanArgument(info, 2, "drain");
  size_t length = bytes.ByteLength();
  if (length == 0 || length % 8 != 0 || length / 8 > kMaxInstructions) {
    throw Napi::RangeError::New(env, "The \"program\" argument must hold 1 to " + std::to_string(kMaxInstructions) +
                                         " 8-byte instructions, got " + std::to_string(length) + " bytes");
  }
#ifdef __linux__
  size_t count = length / 8;
  // A copy: the kernel reads the program during setsockopt, from memory JS cannot move.
  std::unique_ptr<sock_filter[]> instructions(new sock_filter[count]);
  std::memcpy(instructions.get(), bytes.Data(), length);
  if (drain) {
    sock_filter rejectAll{BPF_RET | BPF_K, 0, 0, 0};
    if (Attach(fd, &rejectAll, 1) != 0) throw SystemError(env, errno, "setsockopt");
    DrainReceiveQueue(fd);
  }
  if (Attach(fd, instructions.get(), count) != 0) throw SystemError(env, errno, "setsockopt");
  return env.Undefined();
#else
  throw SystemError(env, ENOTSUP, "setsockopt");
#endif
}

// detachFilter(descriptor): SO_DETACH_FILTER; a socket without a filter is fine.
Napi::Value DetachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = static_cast<int>(IntegerArgument(info, 0, "descriptor", 0, 0x7fffffff));
#ifdef __linux__
  int unused = 0;
  if (setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused) != 0 && errno != ENOENT) {
    throw SystemError(env, errno, "setsockopt");
  }
  return env.Undefined();
#else
  throw SystemError(env, ENOTSUP, "setsockopt");
#endif
}

}  // namespace

void RegisterFilters(Napi::Env env, Napi::Object exports) {
  exports.Set("compileFilter", Napi::Function::New(env, CompileFilter, "compileFilter"));
  exports.Set("libpcapVersion", Napi::Function::New(env, LibpcapVersion, "libpcapVersion"));
  exports.Set("attachFilter", Napi::Function::New(env, AttachFilter, "attachFilter"));
  exports.Set("detachFilter", Napi::Function::New(env, DetachFilter, "detachFilter"));
}

}  // namespace rawsocket
