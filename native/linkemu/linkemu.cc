// packet-workbench-linkemu: a userspace link emulator for kernels without tc netem.
// Two TAP devices joined by this process: every frame the kernel sends out of one is
// read here, impaired per direction (random loss, delay with jitter kept in order like
// netem without reordering, a rate as netem's, a bounded queue) and written into the
// other. No Node in it; the lab (main/lab/emulator.ts) moves the devices into its hosts.
//
//   packet-workbench-linkemu --a TAP --b TAP [--ab-delay MS] [--ab-jitter MS] [--ab-loss PCT]
//       [--ab-rate KBIT] [--ab-queue FRAMES] [the same with --ba-] [--seed N] [--stats FILE] [--lifeline]
//
// Prints "ready A_IFINDEX B_IFINDEX" once both devices exist. Counters: a JSON line in
// --stats FILE every second and on SIGUSR1 (the file is removed at exit), and on stdout
// at exit. SIGTERM/SIGINT end it cleanly; so does either device going away (its
// namespace deleted). --lifeline: end when stdin closes (the builder died) until
// SIGUSR2 says the lab is kept.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr int EXIT_USAGE = 2;
constexpr int EXIT_FAILURE_RUNTIME = 1;
constexpr size_t MAX_FRAME = 65536;

struct DirectionConfig {
  double delayMs = 0;
  double jitterMs = 0;
  double lossPercent = 0;
  uint64_t rateKbit = 0;  // 0: unlimited
  uint64_t queueFrames = 1000;  // netem's default limit
};

struct Options {
  std::string a, b, stats;
  DirectionConfig ab, ba;
  bool seeded = false;
  uint64_t seed = 0;
  bool lifeline = false;
};

[[noreturn]] void usage(const std::string& message) {
  std::fprintf(stderr, "packet-workbench-linkemu: %s\n", message.c_str());
  std::fprintf(stderr,
               "usage: packet-workbench-linkemu --a TAP --b TAP [--ab-delay MS] [--ab-jitter MS] [--ab-loss PCT] "
               "[--ab-rate KBIT] [--ab-queue FRAMES] [--ba-...] [--seed N] [--stats FILE] [--lifeline]\n");
  std::exit(EXIT_USAGE);
}

// A decimal number in [low, high], the whole text and nothing else.
double number(const std::string& option, const char* text, double low, double high) {
  if (text == nullptr || *text == '\0') usage(option + ": needs a value");
  // Plain decimals only: strtod alone would take " 5", "0x10", "1e3" and "nan".
  bool plain = true;
  for (const char* c = text; *c != '\0'; c++) plain = plain && ((*c >= '0' && *c <= '9') || *c == '.');
  char* end = nullptr;
  errno = 0;
  double value = plain ? std::strtod(text, &end) : 0;
  if (!plain || errno != 0 || end == text || *end != '\0' || !(value >= low && value <= high)) {
    usage(option + ": must be a number from " + std::to_string(static_cast<long long>(low)) + " to " +
          std::to_string(static_cast<long long>(high)) + ", not '" + text + "'");
  }
  return value;
}

uint64_t whole(const std::string& option, const char* text, uint64_t low, uint64_t high) {
  if (text == nullptr || *text == '\0') usage(option + ": needs a value");
  for (const char* c = text; *c != '\0'; c++) {
    if (*c < '0' || *c > '9') usage(option + ": must be a whole number from " + std::to_string(low) + " to " + std::to_string(high) + ", not '" + text + "'");
  }
  errno = 0;
  unsigned long long value = std::strtoull(text, nullptr, 10);
  if (errno != 0 || value < low || value > high) {
    usage(option + ": must be a whole number from " + std::to_string(low) + " to " + std::to_string(high) + ", not '" + text + "'");
  }
  return value;
}

void deviceName(const std::string& option, const char* text) {
  if (text == nullptr || *text == '\0') usage(option + ": needs a device name");
  size_t length = std::strlen(text);
  bool valid = length < IFNAMSIZ && text[0] != '-' && std::strcmp(text, ".") != 0 && std::strcmp(text, "..") != 0;
  for (const char* c = text; valid && *c != '\0'; c++) {
    valid = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.';
  }
  if (!valid) usage(option + ": '" + text + "' is not a device name (1 to 15 of a-z A-Z 0-9 - _ .)");
}

bool known(const std::string& option) {
  static const char* const names[] = {"--a", "--b", "--stats", "--seed", "--lifeline"};
  static const char* const perDirection[] = {"delay", "jitter", "loss", "rate", "queue"};
  for (const char* name : names) if (option == name) return true;
  for (const char* prefix : {"--ab-", "--ba-"}) {
    for (const char* what : perDirection) if (option == std::string(prefix) + what) return true;
  }
  return false;
}

Options parse(int argc, char** argv) {
  Options options;
  std::vector<std::string> seen;
  for (int i = 1; i < argc; i++) {
    std::string option = argv[i];
    if (option == "--help" || option == "-h") {
      std::printf("packet-workbench-linkemu --a TAP --b TAP [--ab-delay MS] [--ab-jitter MS] [--ab-loss PCT] [--ab-rate KBIT] "
                  "[--ab-queue FRAMES] [--ba-...] [--seed N] [--stats FILE] [--lifeline]\n");
      std::exit(0);
    }
    if (!known(option)) usage(option.rfind("--", 0) == 0 ? "unknown option " + option : "unexpected argument '" + option + "'");
    for (const std::string& earlier : seen) {
      if (earlier == option) usage(option + ": given twice");
    }
    seen.push_back(option);
    if (option == "--lifeline") {
      options.lifeline = true;
      continue;
    }
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (value == nullptr) usage(option + ": needs a value");
    i++;
    if (option == "--a" || option == "--b") {
      deviceName(option, value);
      (option == "--a" ? options.a : options.b) = value;
    } else if (option == "--stats") {
      if (*value == '\0' || std::strlen(value) > 4000) usage("--stats: needs a file path");
      options.stats = value;
    } else if (option == "--seed") {
      options.seed = whole(option, value, 0, UINT64_MAX);
      options.seeded = true;
    } else {
      DirectionConfig& direction = option[2] == 'a' ? options.ab : options.ba;
      std::string what = option.substr(5);
      if (what == "delay") direction.delayMs = number(option, value, 0, 60000);
      else if (what == "jitter") direction.jitterMs = number(option, value, 0, 60000);
      else if (what == "loss") direction.lossPercent = number(option, value, 0, 100);
      else if (what == "rate") direction.rateKbit = whole(option, value, 8, 100000000);
      else direction.queueFrames = whole(option, value, 1, 1000000);
    }
  }
  if (options.a.empty()) usage("--a: missing (the TAP device of end A)");
  if (options.b.empty()) usage("--b: missing (the TAP device of end B)");
  if (options.a == options.b) usage("--a and --b: must be two different devices");
  return options;
}

// ---- randomness: splitmix64, seeded from --seed or the kernel -----------------------

uint64_t randomState;

uint64_t nextRandom() {
  uint64_t z = (randomState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1).
double uniform() { return static_cast<double>(nextRandom() >> 11) * (1.0 / 9007199254740992.0); }

int64_t nowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000LL + now.tv_nsec;
}

// ---- one direction of the link -------------------------------------------------------

struct Frame {
  std::vector<uint8_t> bytes;
  int64_t releaseNs = 0;  // when it leaves the delay line
};

struct Counters {
  uint64_t received = 0, sent = 0, lost = 0, queueDrops = 0, writeErrors = 0, bytesSent = 0;
};

struct Direction {
  DirectionConfig config;
  int from = -1, to = -1;
  std::deque<Frame> delayLine;  // waiting for their release time, in order
  int64_t wireFreeNs = 0;  // when the rate-limited wire has sent everything before
  int64_t lastReleaseNs = 0;
  Counters counters;

  size_t held() const { return delayLine.size(); }

  void arrive(std::vector<uint8_t>&& bytes, int64_t now) {
    counters.received++;
    // Loss on arrival, as netem drops on enqueue.
    if (config.lossPercent > 0 && uniform() * 100 < config.lossPercent) {
      counters.lost++;
      return;
    }
    if (held() >= config.queueFrames) {
      counters.queueDrops++;
      return;
    }
    // The rate as netem applies it: each frame occupies the wire for its length at the
    // rate, after the frames before it. Computed, not paced by wakeups, so a late
    // wakeup on a busy machine delays frames but never lowers the rate.
    int64_t sent = now;
    if (config.rateKbit != 0) {
      int64_t start = std::max(now, wireFreeNs);
      wireFreeNs = start + static_cast<int64_t>(static_cast<double>(bytes.size()) * 8e6 / static_cast<double>(config.rateKbit));
      sent = wireFreeNs;
    }
    double delay = config.delayMs;
    if (config.jitterMs > 0) delay += (uniform() * 2 - 1) * config.jitterMs;
    if (delay < 0) delay = 0;
    int64_t release = sent + static_cast<int64_t>(delay * 1e6);
    // Never before the frame ahead of it: jitter without reordering.
    if (release < lastReleaseNs) release = lastReleaseNs;
    lastReleaseNs = release;
    delayLine.push_back(Frame{std::move(bytes), release});
  }

  // Sends what is due; returns when the next frame is (INT64_MAX: none waits).
  int64_t service(int64_t now) {
    while (!delayLine.empty() && delayLine.front().releaseNs <= now) {
      const std::vector<uint8_t>& bytes = delayLine.front().bytes;
      if (write(to, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
        counters.sent++;
        counters.bytesSent += bytes.size();
      } else {
        counters.writeErrors++;
      }
      delayLine.pop_front();
    }
    return delayLine.empty() ? INT64_MAX : delayLine.front().releaseNs;
  }
};

// ---- signals -------------------------------------------------------------------------

volatile sig_atomic_t stopRequested = 0;
volatile sig_atomic_t statsRequested = 0;
volatile sig_atomic_t kept = 0;

void onStop(int) { stopRequested = 1; }
void onStats(int) { statsRequested = 1; }
void onKeep(int) { kept = 1; }

void handle(int signal, void (*handler)(int)) {
  struct sigaction action{};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
}

// ---- TAP devices and counters ----------------------------------------------------------

int openTap(const std::string& name, int* ifindex) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "packet-workbench-linkemu: cannot open /dev/net/tun: %s\n", std::strerror(errno));
    std::exit(EXIT_FAILURE_RUNTIME);
  }
  ifreq request{};
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::strncpy(request.ifr_name, name.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &request) < 0) {
    std::fprintf(stderr, "packet-workbench-linkemu: cannot create TAP device %s: %s%s\n", name.c_str(), std::strerror(errno),
                 errno == EPERM ? " (needs CAP_NET_ADMIN)" : errno == EBUSY ? " (a device of that name exists)" : "");
    std::exit(EXIT_FAILURE_RUNTIME);
  }
  ifreq index{};
  std::strncpy(index.ifr_name, name.c_str(), IFNAMSIZ - 1);
  int control = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  *ifindex = control >= 0 && ioctl(control, SIOCGIFINDEX, &index) == 0 ? index.ifr_ifindex : 0;
  if (control >= 0) close(control);
  return fd;
}

std::string countersJson(const Options& options, const Direction& ab, const Direction& ba) {
  auto one = [](const Direction& d) {
    char text[320];
    std::snprintf(text, sizeof text,
                  "{\"received\":%llu,\"sent\":%llu,\"lost\":%llu,\"queueDrops\":%llu,\"writeErrors\":%llu,\"bytesSent\":%llu,\"queued\":%zu}",
                  static_cast<unsigned long long>(d.counters.received), static_cast<unsigned long long>(d.counters.sent),
                  static_cast<unsigned long long>(d.counters.lost), static_cast<unsigned long long>(d.counters.queueDrops),
                  static_cast<unsigned long long>(d.counters.writeErrors), static_cast<unsigned long long>(d.counters.bytesSent), d.held());
    return std::string(text);
  };
  return "{\"pid\":" + std::to_string(getpid()) + ",\"a\":\"" + options.a + "\",\"b\":\"" + options.b + "\",\"ab\":" + one(ab) +
         ",\"ba\":" + one(ba) + "}\n";
}

void writeStats(const Options& options, const std::string& json) {
  if (options.stats.empty()) return;
  // Written whole and renamed, so a reader never sees half a line.
  std::string temporary = options.stats + ".tmp";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool whole = write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
  close(fd);
  if (whole) rename(temporary.c_str(), options.stats.c_str());
  else unlink(temporary.c_str());
}

// With both devices open nothing more needs privilege: give up every capability (the
// process stays uid 0, so it can still write its root-owned stats file).
bool dropCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3]{};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && syscall(SYS_capset, &header, none) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  if (options.seeded) randomState = options.seed;
  else if (getrandom(&randomState, sizeof randomState, 0) != sizeof randomState) randomState = static_cast<uint64_t>(nowNs()) ^ getpid();

  handle(SIGTERM, onStop);
  handle(SIGINT, onStop);
  handle(SIGHUP, onStop);
  handle(SIGUSR1, onStats);
  handle(SIGUSR2, onKeep);
  signal(SIGPIPE, SIG_IGN);
  // Signals arrive only inside ppoll, so none can slip in between the loop's check and the wait.
  sigset_t handled, during;
  sigemptyset(&handled);
  for (int number : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigaddset(&handled, number);
  sigprocmask(SIG_BLOCK, &handled, &during);
  for (int number : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2}) sigdelset(&during, number);

  int indexA = 0, indexB = 0;
  Direction ab, ba;
  ab.config = options.ab;
  ba.config = options.ba;
  ab.from = ba.to = openTap(options.a, &indexA);
  ab.to = ba.from = openTap(options.b, &indexB);
  if (!dropCapabilities()) std::fprintf(stderr, "packet-workbench-linkemu: could not drop capabilities: %s\n", std::strerror(errno));
  std::printf("ready %d %d\n", indexA, indexB);
  std::fflush(stdout);

  std::vector<uint8_t> buffer(MAX_FRAME);
  int64_t nextStatsNs = nowNs();
  const char* ending = nullptr;
  while (!stopRequested) {
    int64_t now = nowNs();
    int64_t due = std::min(ab.service(now), ba.service(now));
    if (!options.stats.empty() && (statsRequested || now >= nextStatsNs)) {
      statsRequested = 0;
      writeStats(options, countersJson(options, ab, ba));
      nextStatsNs = now + 1000000000LL;
    }
    if (!options.stats.empty()) due = std::min(due, nextStatsNs);

    pollfd fds[3] = {{ab.from, POLLIN, 0}, {ba.from, POLLIN, 0}, {0, POLLIN, 0}};
    nfds_t count = options.lifeline && !kept ? 3 : 2;
    timespec timeout{};
    timespec* wait = nullptr;
    if (due != INT64_MAX) {
      int64_t ns = std::max<int64_t>(0, due - nowNs());
      timeout.tv_sec = ns / 1000000000LL;
      timeout.tv_nsec = ns % 1000000000LL;
      wait = &timeout;
    }
    int ready = ppoll(fds, count, wait, &during);
    if (ready < 0) {
      if (errno == EINTR) continue;
      ending = "poll failed";
      break;
    }
    // ppoll reports ready descriptors before a pending signal, so under steady traffic a
    // signal would wait forever: take them in now. (A SIGUSR2 sent just before the builder
    // exited must count before the lifeline's EOF, or the kept lab would die with it.)
    if (ready > 0) {
      sigprocmask(SIG_SETMASK, &during, nullptr);
      sigprocmask(SIG_BLOCK, &handled, nullptr);
      if (stopRequested) break;
    }
    if (count == 3 && fds[2].revents != 0) {
      char byte;
      if (!kept && read(0, &byte, 1) <= 0) break;  // the builder is gone and never kept the lab
    }
    for (int side = 0; side < 2 && ending == nullptr; side++) {
      Direction& direction = side == 0 ? ab : ba;
      if (fds[side].revents & (POLLERR | POLLHUP | POLLNVAL)) {
        ending = side == 0 ? "device A went away" : "device B went away";
        break;
      }
      if (!(fds[side].revents & POLLIN)) continue;
      // Bounded per wakeup, so one busy side cannot starve the other or the timers.
      for (int n = 0; n < 64; n++) {
        ssize_t length = read(direction.from, buffer.data(), buffer.size());
        if (length > 0) {
          direction.arrive(std::vector<uint8_t>(buffer.begin(), buffer.begin() + length), nowNs());
          continue;
        }
        if (length < 0 && (errno == EAGAIN || errno == EINTR)) break;
        // EBADFD/EIO: the device was deleted with its namespace.
        ending = side == 0 ? "device A went away" : "device B went away";
        break;
      }
    }
    if (ending != nullptr) break;
  }

  std::string json = countersJson(options, ab, ba);
  if (!options.stats.empty()) unlink(options.stats.c_str());
  std::fputs(json.c_str(), stdout);
  std::fflush(stdout);
  if (ending != nullptr) std::fprintf(stderr, "packet-workbench-linkemu: %s, stopping\n", ending);
  return 0;
}
