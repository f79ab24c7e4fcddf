// packet-workbench-helper: opens raw sockets for the unprivileged workbench and passes
// their descriptors (SCM_RIGHTS) over the Unix SOCK_SEQPACKET socket it is given as
// stdin. It never reads a packet and never runs anything else. README.md in this
// folder describes the protocol, the privilege model and how to audit this file.
//
//   packet-workbench-helper [--elevated] [--namespaces]
//
// Exit codes: 0 the channel ended, 64 usage or bad channel, 70 internal error,
// 77 refused (no privilege, wrong peer).
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#endif

#include <regex>
#include <string>
#include <vector>

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 64;     // EX_USAGE
constexpr int kExitInternal = 70;  // EX_SOFTWARE
constexpr int kExitRefused = 77;   // EX_NOPERM
constexpr int kChannel = 0;        // the control channel is stdin
constexpr size_t kMaxMessage = 256;
constexpr size_t kMaxEcho = 40;  // bytes of a request word quoted back in an error

const char kAllowList[] = "allowed: ipv4 icmp|udp|tcp|raw, ipv6 icmpv6|udp|tcp|raw";

struct Protocol {
  const char* name;
  int number;
};
const Protocol kIpv4Protocols[] = {{"icmp", IPPROTO_ICMP}, {"udp", IPPROTO_UDP}, {"tcp", IPPROTO_TCP}, {"raw", IPPROTO_RAW}};
const Protocol kIpv6Protocols[] = {{"icmpv6", IPPROTO_ICMPV6}, {"udp", IPPROTO_UDP}, {"tcp", IPPROTO_TCP}, {"raw", IPPROTO_RAW}};

struct Options {
  bool elevated = false;
  bool namespaces = false;
};

struct User {
  uid_t uid;
  gid_t gid;
};

// One line on stderr, written with a single write(2).
void Log(const char* format, ...) {
  char line[512];
  int used = snprintf(line, sizeof line, "packet-workbench-helper: ");
  va_list args;
  va_start(args, format);
  vsnprintf(line + used, sizeof line - used - 1, format, args);
  va_end(args);
  size_t length = strlen(line);
  line[length++] = '\n';
  ssize_t ignored = write(STDERR_FILENO, line, length);
  (void)ignored;
}

// The errno names a socket() or open() here can fail with; strerror() text goes along.
const char* ErrnoName(int error) {
#define NAME(e) {e, #e}
  static const struct {
    int number;
    const char* name;
  } kNames[] = {NAME(EPERM),  NAME(EACCES),  NAME(ENOENT),  NAME(EINVAL), NAME(EMFILE),
                NAME(ENFILE), NAME(ENOMEM),  NAME(ENOBUFS), NAME(ENOTDIR), NAME(ELOOP),
                NAME(EPROTONOSUPPORT), NAME(EAFNOSUPPORT), NAME(ESOCKTNOSUPPORT)};
#undef NAME
  for (const auto& entry : kNames) {
    if (entry.number == error) return entry.name;
  }
  return "EIO";
}

// Sends one message, with a descriptor attached when descriptor >= 0. False on failure (errno set).
bool Send(const std::string& text, int descriptor = -1) {
  iovec vector{const_cast<char*>(text.data()), text.size()};
  msghdr header{};
  header.msg_iov = &vector;
  header.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (descriptor >= 0) {
    memset(control, 0, sizeof control);
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    cmsghdr* message = CMSG_FIRSTHDR(&header);
    message->cmsg_level = SOL_SOCKET;
    message->cmsg_type = SCM_RIGHTS;
    message->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(message), &descriptor, sizeof(int));
  }
#ifdef MSG_NOSIGNAL
  const int flags = MSG_NOSIGNAL;
#else
  const int flags = 0;  // SIGPIPE is ignored in main()
#endif
  for (;;) {
    if (sendmsg(kChannel, &header, flags) >= 0) return true;
    if (errno != EINTR) return false;
  }
}

// Tells the workbench why it is refused (when the channel works), logs it and exits.
[[noreturn]] void Refuse(int exitCode, const char* code, const std::string& reason) {
  Send(std::string("refused ") + code + " " + reason);
  Log("refused: %s", reason.c_str());
  exit(exitCode);
}

[[noreturn]] void Fail(const char* what) {
  const int error = errno;
  Log("%s: %s", what, strerror(error));
  exit(kExitInternal);
}

// A decimal uid or gid: digits only, no sign, not (uid_t)-1.
bool ParseId(const char* text, uint32_t* out) {
  if (text == nullptr || *text == '\0' || strlen(text) > 10) return false;
  uint64_t value = 0;
  for (const char* p = text; *p; p++) {
    if (*p < '0' || *p > '9') return false;
    value = value * 10 + static_cast<uint64_t>(*p - '0');
  }
  if (value >= 0xffffffffULL) return false;
  *out = static_cast<uint32_t>(value);
  return true;
}

// Usage errors are collected first and reported once the channel is known to work.
std::string ParseArguments(int argc, char** argv, Options* options) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--elevated") == 0 && !options->elevated) {
      options->elevated = true;
    } else if (strcmp(argv[i], "--namespaces") == 0 && !options->namespaces) {
      options->namespaces = true;
    } else {
      return "usage: packet-workbench-helper [--elevated] [--namespaces] (with a SOCK_SEQPACKET socket as stdin)";
    }
  }
  if (options->namespaces && !options->elevated) return "--namespaces needs --elevated (CAP_SYS_ADMIN for setns)";
#ifndef __linux__
  if (options->namespaces) return "--namespaces: network namespaces exist only on Linux";
#endif
  return "";
}

void CheckChannel() {
  struct stat status;
  if (fstat(kChannel, &status) != 0 || !S_ISSOCK(status.st_mode)) {
    Log("stdin must be the workbench's AF_UNIX SOCK_SEQPACKET socket; it is not a socket");
    exit(kExitUsage);
  }
  sockaddr_storage address{};
  socklen_t addressLength = sizeof address;
  int type = 0;
  socklen_t typeLength = sizeof type;
  if (getsockname(kChannel, reinterpret_cast<sockaddr*>(&address), &addressLength) != 0 ||
      address.ss_family != AF_UNIX || getsockopt(kChannel, SOL_SOCKET, SO_TYPE, &type, &typeLength) != 0 ||
      type != SOCK_SEQPACKET) {
    Log("stdin must be the workbench's AF_UNIX SOCK_SEQPACKET socket; it is another kind of socket");
    exit(kExitUsage);
  }
}

User UserToServe(const Options& options) {
  if (!options.elevated) {
    // Installed mode: the binary carries cap_net_raw+ep and runs as the user. A
    // set-user-ID or set-group-ID installation is refused: use the file capability.
    if (geteuid() != getuid() || getegid() != getgid()) {
      Refuse(kExitRefused, "EACCES", "the helper must not be set-user-ID or set-group-ID: give it cap_net_raw+ep instead");
    }
    return User{getuid(), getgid()};
  }
  if (getuid() != 0 || geteuid() != 0) {
    Refuse(kExitRefused, "EACCES", "--elevated: the helper is not running as root (start it through pkexec or sudo)");
  }
  uint32_t uid = 0;
  uint32_t gid = 0;
  if (getenv("PKEXEC_UID") != nullptr) {
    if (!ParseId(getenv("PKEXEC_UID"), &uid)) Refuse(kExitRefused, "EACCES", "PKEXEC_UID is not a user id");
    const passwd* entry = getpwuid(uid);
    if (entry == nullptr) Refuse(kExitRefused, "EACCES", "PKEXEC_UID names no user in the password database");
    gid = entry->pw_gid;
  } else if (getenv("SUDO_UID") != nullptr) {
    if (!ParseId(getenv("SUDO_UID"), &uid) || !ParseId(getenv("SUDO_GID"), &gid)) {
      Refuse(kExitRefused, "EACCES", "SUDO_UID or SUDO_GID is missing or not an id");
    }
  } else {
    Refuse(kExitRefused, "EACCES", "--elevated: neither PKEXEC_UID nor SUDO_UID says which user to serve");
  }
  return User{uid, gid};
}

// The process that created the channel must be the user served.
void CheckPeer(const User& user) {
  uid_t peerUid;
#ifdef SO_PEERCRED
  ucred peer{};
  socklen_t length = sizeof peer;
  if (getsockopt(kChannel, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0) Fail("getsockopt(SO_PEERCRED)");
  peerUid = peer.uid;
#else
  gid_t peerGid;
  if (getpeereid(kChannel, &peerUid, &peerGid) != 0) Fail("getpeereid");
#endif
  if (peerUid != user.uid) {
    Refuse(kExitRefused, "EACCES",
           "the channel belongs to uid " + std::to_string(peerUid) + ", not to the user served (uid " +
               std::to_string(user.uid) + ")");
  }
}

#ifdef __linux__
constexpr uint64_t Bit(int capability) { return 1ULL << capability; }

struct Capabilities {
  uint64_t permitted = 0, effective = 0, inheritable = 0;
};

Capabilities GetCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &header, data) != 0) Fail("capget");
  Capabilities sets;
  sets.permitted = data[0].permitted | static_cast<uint64_t>(data[1].permitted) << 32;
  sets.effective = data[0].effective | static_cast<uint64_t>(data[1].effective) << 32;
  sets.inheritable = data[0].inheritable | static_cast<uint64_t>(data[1].inheritable) << 32;
  return sets;
}

void SetCapabilities(uint64_t permittedAndEffective) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; i++) {
    data[i].permitted = data[i].effective = static_cast<uint32_t>(permittedAndEffective >> (32 * i));
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) != 0) Fail("capset");
}

void ClearAmbientAndLock() {
#ifdef PR_CAP_AMBIENT
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) Fail("prctl(PR_CAP_AMBIENT)");
#endif
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Fail("prctl(PR_SET_NO_NEW_PRIVS)");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) Fail("prctl(PR_SET_DUMPABLE)");
}
#endif

// Leaves exactly the capabilities the requests need; returns their names for the hello.
std::string DropPrivileges(const Options& options, const User& user) {
#ifdef __linux__
  const uint64_t wanted = Bit(CAP_NET_RAW) | (options.namespaces ? Bit(CAP_SYS_ADMIN) : 0);
  if (options.elevated) {
    if (setgroups(1, &user.gid) != 0) Fail("setgroups");
    if (setresgid(user.gid, user.gid, user.gid) != 0) Fail("setresgid");
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) Fail("prctl(PR_SET_KEEPCAPS)");
    for (int capability = 0; capability < 64; capability++) {
      if (wanted & Bit(capability)) continue;
      if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
        if (errno == EINVAL) break;  // past the kernel's last capability
        Fail("prctl(PR_CAPBSET_DROP)");
      }
    }
    if (setresuid(user.uid, user.uid, user.uid) != 0) Fail("setresuid");
    SetCapabilities(wanted);
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) Fail("prctl(PR_SET_KEEPCAPS)");
  } else {
    SetCapabilities(GetCapabilities().permitted & Bit(CAP_NET_RAW));
  }
  ClearAmbientAndLock();
  // Verify rather than trust: every id is the user's and nothing else is left.
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
  if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) Fail("getresuid");
  if (options.elevated && (ruid != user.uid || euid != user.uid || suid != user.uid || rgid != user.gid ||
                           egid != user.gid || sgid != user.gid)) {
    errno = EPERM;
    Fail("the user and group ids did not change");
  }
  if (options.elevated && user.uid != 0 && setuid(0) == 0) {
    errno = EPERM;
    Fail("root could be regained");
  }
  const Capabilities now = GetCapabilities();
  if (!(now.effective & Bit(CAP_NET_RAW))) {
    Refuse(kExitRefused, "ENOCAP",
           "the helper has no CAP_NET_RAW: install it with `sudo packet-workbench setup-helper`");
  }
  if (now.permitted != wanted || now.effective != wanted || now.inheritable != 0) {
    errno = EPERM;
    Fail("capabilities other than the needed ones are left");
  }
  return options.namespaces ? "net_raw,sys_admin" : "net_raw";
#else
  // No capabilities here: raw sockets need an effective uid of 0, so elevated mode
  // keeps it (after leaving only the user's group); installed mode works only for root.
  if (options.elevated) {
    if (setgroups(1, &user.gid) != 0) Fail("setgroups");
  } else if (geteuid() != 0) {
    Refuse(kExitRefused, "ENOCAP", "the helper has no CAP_NET_RAW: install it with `sudo packet-workbench setup-helper`");
  }
  return "net_raw";
#endif
}

// Ends the helper with the workbench: SIGTERM when the parent dies, checked for the
// race where it died before the request took effect.
void FollowParent(pid_t parent) {
#ifdef __linux__
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) Fail("prctl(PR_SET_PDEATHSIG)");
#endif
  if (getppid() != parent) {
    Log("the parent process is gone");
    exit(kExitOk);
  }
}

std::string Echo(const std::string& word) {
  return word.size() <= kMaxEcho ? word : word.substr(0, kMaxEcho) + "...";
}

// "<ERRNO_NAME> <what>: <strerror>", the tail of an error answer.
std::string SystemError(int error, const std::string& what) {
  return std::string(ErrnoName(error)) + " " + what + ": " + strerror(error);
}

// Opens the socket, inside the named lab namespace when one is given. Returns the
// descriptor, or -1 with the error answer's text in *error.
int OpenSocket(int family, int protocol, const std::string& namespaceName, int homeNamespace, std::string* error) {
#ifdef __linux__
  int lab = -1;
  if (!namespaceName.empty()) {
    lab = open(("/run/netns/" + namespaceName).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (lab < 0 || setns(lab, CLONE_NEWNET) != 0) {
      const int failure = errno;
      *error = SystemError(failure, std::string(lab < 0 ? "open" : "setns") + " netns " + namespaceName);
      if (lab >= 0) close(lab);
      return -1;
    }
  }
#else
  (void)namespaceName;
  (void)homeNamespace;
#endif
#ifdef SOCK_CLOEXEC
  const int descriptor = socket(family, SOCK_RAW | SOCK_CLOEXEC, protocol);
#else
  const int descriptor = socket(family, SOCK_RAW, protocol);
  if (descriptor >= 0 && fcntl(descriptor, F_SETFD, FD_CLOEXEC) != 0) Fail("fcntl(FD_CLOEXEC)");
#endif
  const int failure = errno;
  if (descriptor < 0) *error = SystemError(failure, "socket");
#ifdef __linux__
  if (lab >= 0) {
    close(lab);
    // Never stay in the lab's namespace.
    if (setns(homeNamespace, CLONE_NEWNET) != 0) Fail("setns back to the helper's own network namespace");
  }
#endif
  return descriptor;
}

// Splits a request into words: printable ASCII separated by single spaces, nothing else.
bool SplitWords(const char* data, size_t length, std::vector<std::string>* words) {
  std::string word;
  for (size_t i = 0; i < length; i++) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c == ' ') {
      if (word.empty()) return false;
      words->push_back(word);
      word.clear();
    } else if (c > 0x20 && c < 0x7f) {
      word.push_back(static_cast<char>(c));
    } else {
      return false;
    }
  }
  if (word.empty()) return false;
  words->push_back(word);
  return true;
}

// A topology lab's host (main/lab/topology-lab.ts): pwl-<lab>-<pid>-<serial+random>-<host>, as
// its topology file allows the lab's and the host's names.
const std::regex kTopologyNamespace("pwl-[a-z][a-z0-9-]{0,23}-[0-9]{1,10}-[0-9a-f]{1,24}-[a-z][a-z0-9]{0,11}");

// The workbench's lab namespaces only: pwlab… (main/lab/lab.ts) and topology labs' hosts.
bool ValidNamespaceName(const std::string& name) {
  if (name.size() <= 80 && std::regex_match(name, kTopologyNamespace)) return true;
  if (name.size() < 5 || name.size() > 65 || name.compare(0, 5, "pwlab") != 0) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Answers one request; the descriptor of a successful open goes with the answer.
void Answer(const Options& options, int homeNamespace, const char* data, size_t length) {
  std::vector<std::string> words;
  if (!SplitWords(data, length, &words) || words.size() > 5) {
    Send("error EINVAL a request is up to 5 printable ASCII words separated by single spaces");
    return;
  }
  if (words[0] == "ping" && words.size() == 1) {
    Send("pong");
    return;
  }
  if (words[0] == "quit" && words.size() == 1) exit(kExitOk);
  if (words[0] != "open") {
    Send("error EINVAL unknown request '" + Echo(words[0]) + "' (expected open, ping or quit, each with its arguments)");
    return;
  }
  if (words.size() != 3 && !(words.size() == 5 && words[3] == "netns")) {
    Send("error EINVAL usage: open <ipv4|ipv6> <protocol> [netns <name>]");
    return;
  }
  const std::string& familyName = words[1];
  const std::string& protocolName = words[2];
  int family = -1;
  int protocol = -1;
  const Protocol* list = familyName == "ipv4" ? kIpv4Protocols : familyName == "ipv6" ? kIpv6Protocols : nullptr;
  if (list != nullptr) {
    family = familyName == "ipv4" ? AF_INET : AF_INET6;
    for (size_t i = 0; i < 4; i++) {
      if (protocolName == list[i].name) protocol = list[i].number;
    }
  }
  if (protocol < 0) {
    Send("error EPROTONOSUPPORT " + Echo(familyName) + " " + Echo(protocolName) + " is not allowed (" + kAllowList + ")");
    return;
  }
  std::string namespaceName;
  if (words.size() == 5) {
    if (!options.namespaces) {
      Send("error EPERM lab namespaces need a helper started with --elevated --namespaces");
      return;
    }
    namespaceName = words[4];
    if (!ValidNamespaceName(namespaceName)) {
      Send("error EINVAL netns '" + Echo(namespaceName) + "': only the workbench's lab namespaces (pwlab[A-Za-z0-9_.-]{0,60} or a topology lab's pwl-LAB-PID-ID-HOST)");
      return;
    }
  }
  std::string error;
  const int descriptor = OpenSocket(family, protocol, namespaceName, homeNamespace, &error);
  if (descriptor < 0) {
    Send("error " + error);
    return;
  }
  const bool sent = Send("ok " + familyName + " " + protocolName, descriptor);
  const int sendError = errno;
  close(descriptor);
  if (!sent) {
    if (sendError == EPIPE || sendError == ECONNRESET) exit(kExitOk);  // the workbench went away
    errno = sendError;
    Fail("sendmsg");
  }
}

void Serve(const Options& options, int homeNamespace) {
  for (;;) {
    char data[kMaxMessage + 1];
    iovec vector{data, sizeof data};
    msghdr header{};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    // No room for control data: descriptors sent to the helper are never installed
    // (the kernel releases them and sets MSG_CTRUNC).
    const ssize_t received = recvmsg(kChannel, &header, 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) exit(kExitOk);
      Fail("recvmsg");
    }
    if (received == 0) exit(kExitOk);  // end of channel (an empty message reads the same)
    if (header.msg_flags & MSG_CTRUNC) {
      Send("error EINVAL requests carry no descriptors");
    } else if (static_cast<size_t>(received) > kMaxMessage || (header.msg_flags & MSG_TRUNC)) {
      Send("error EINVAL a request is at most 256 bytes");
    } else {
      Answer(options, homeNamespace, data, static_cast<size_t>(received));
    }
  }
}

void CloseOtherDescriptors() {
#if defined(__linux__) && defined(SYS_close_range)
  if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
  const long limit = sysconf(_SC_OPEN_MAX);
  for (long descriptor = 3; descriptor < (limit > 0 && limit < 65536 ? limit : 65536); descriptor++) {
    close(static_cast<int>(descriptor));
  }
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const pid_t parent = getppid();
  CloseOtherDescriptors();
  if (chdir("/") != 0) Fail("chdir");
  umask(077);
  Options options;
  const std::string usage = ParseArguments(argc, argv, &options);
  CheckChannel();
  if (!usage.empty()) Refuse(kExitUsage, "EINVAL", usage);
  const User user = UserToServe(options);
  CheckPeer(user);
  int homeNamespace = -1;
#ifdef __linux__
  // Opened while still privileged: the way back after every lab namespace request.
  if (options.namespaces) {
    homeNamespace = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (homeNamespace < 0) Fail("open /proc/self/ns/net");
  }
#endif
  const std::string capabilities = DropPrivileges(options, user);
  FollowParent(parent);
  char hello[kMaxMessage];
  snprintf(hello, sizeof hello, "hello 1 pid=%ld uid=%lu gid=%lu mode=%s caps=%s", static_cast<long>(getpid()),
           static_cast<unsigned long>(user.uid), static_cast<unsigned long>(user.gid),
           options.elevated ? "elevated" : "capability", capabilities.c_str());
  if (!Send(hello)) {
    if (errno == EPIPE || errno == ECONNRESET) return kExitOk;
    Fail("sendmsg");
  }
  Serve(options, homeNamespace);
  return kExitOk;
}
