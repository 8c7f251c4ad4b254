#include "tools/xehil/sim_run_process.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/monotonic_clock.h"
#include "core/base/unique_fd.h"

extern char** environ;

namespace xehil {
namespace {

constexpr char kWorkspace[] = "xehil";
constexpr int kStartTimeoutMs = 10000;

std::string SelfExe() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string();
}

// One line from `fd` within `timeout_ms`; "" on EOF or timeout.
std::string ReadLine(int fd, int timeout_ms) {
  const uint64_t deadline =
      MonotonicNowNs() + static_cast<uint64_t>(timeout_ms) * 1000000;
  std::string line;
  for (;;) {
    const uint64_t now = MonotonicNowNs();
    if (now >= deadline) return "";
    pollfd p{fd, POLLIN, 0};
    const int n =
        ::poll(&p, 1, static_cast<int>((deadline - now) / 1000000 + 1));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "";
    char c;
    const ssize_t got = ::read(fd, &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return "";
    if (c == '\n') return line;
    line.push_back(c);
  }
}

std::string ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  ssize_t n;
  off_t at = 0;
  while (fd >= 0 && (n = ::pread(fd, buffer, sizeof(buffer), at)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
    at += n;
  }
  return text;
}

// fork + exec with PR_SET_PDEATHSIG set in between. The child runs only
// async-signal-safe calls; an exec failure comes back through a pipe.
int SpawnTied(char* const* args, char* const* envp, bool search_path,
              int stdout_fd, int stderr_fd, bool own_group, int death_signal,
              pid_t* pid) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return errno;
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    const int e = errno;
    ::close(report[0]);
    ::close(report[1]);
    return e;
  }
  if (child == 0) {
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) {
      ::sigaction(sig, &dfl, nullptr);
    }
    if (own_group) ::setpgid(0, 0);
    if (stdout_fd >= 0) ::dup2(stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0) ::dup2(stderr_fd, STDERR_FILENO);
    int e = 0;
    if (::prctl(PR_SET_PDEATHSIG, death_signal) != 0) {
      e = errno;
    } else if (::getppid() != parent) {
      _exit(127);  // the parent is gone already
    } else {
      if (search_path) {
        ::execvpe(args[0], args, envp);
      } else {
        ::execve(args[0], args, envp);
      }
      e = errno;
    }
    (void)!::write(report[1], &e, sizeof(e));
    _exit(127);
  }
  ::close(report[1]);
  int e = 0;
  ssize_t n;
  while ((n = ::read(report[0], &e, sizeof(e))) < 0 && errno == EINTR) {
  }
  ::close(report[0]);
  if (n == static_cast<ssize_t>(sizeof(e))) {
    WaitForExit(child);
    return e;
  }
  *pid = child;
  return 0;
}

}  // namespace

int SpawnProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env, bool search_path,
                 int stdout_fd, int stderr_fd, bool own_group, pid_t* pid,
                 int death_signal) {
  if (death_signal != 0) {
    std::vector<char*> args;
    for (const std::string& arg : argv) {
      args.push_back(const_cast<char*>(arg.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) {
      envp.push_back(const_cast<char*>(e.c_str()));
    }
    envp.push_back(nullptr);
    return SpawnTied(args.data(), envp.data(), search_path, stdout_fd,
                     stderr_fd, own_group, death_signal, pid);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  }
  if (stderr_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  short flags = POSIX_SPAWN_SETSIGDEF;
  if (own_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  posix_spawnattr_setflags(&attr, flags);
  std::vector<char*> args;
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int rc = search_path ? ::posix_spawnp(pid, args[0], &actions, &attr,
                                              args.data(), envp.data())
                             : ::posix_spawn(pid, args[0], &actions, &attr,
                                             args.data(), envp.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return rc;
}

int WaitForExit(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return 0;
  }
  return status;
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

std::string AbsolutePath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

std::string FindRunfile(const std::string& runfile,
                        std::vector<std::string>* looked) {
  std::vector<std::string> candidates;
  for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    const char* dir = std::getenv(var);
    if (dir != nullptr && dir[0] != '\0') {
      candidates.push_back(absl::StrCat(dir, "/", kWorkspace, "/", runfile));
    }
  }
  const std::string exe = SelfExe();
  if (!exe.empty()) {
    candidates.push_back(
        absl::StrCat(exe, ".runfiles/", kWorkspace, "/", runfile));
    const size_t base = runfile.rfind('/');
    candidates.push_back(absl::StrCat(
        exe.substr(0, exe.rfind('/')), "/",
        base == std::string::npos ? runfile : runfile.substr(base + 1)));
  }
  for (const std::string& candidate : candidates) {
    if (looked != nullptr) looked->push_back(candidate);
    if (::access(candidate.c_str(), R_OK) == 0) return candidate;
  }
  return "";
}

std::unique_ptr<SimdDaemon> SimdDaemon::Start(const std::string& simd,
                                              const std::string& device_profile,
                                              const std::string& script,
                                              bool verbose, std::ostream& err) {
  char templ[] = "/tmp/xehil-sim-run-XXXXXX";
  if (::mkdtemp(templ) == nullptr) {
    err << "xehil sim-run: mkdtemp: " << ::strerror(errno) << "\n";
    return nullptr;
  }
  std::unique_ptr<SimdDaemon> daemon(new SimdDaemon(templ));
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    err << "xehil sim-run: pipe: " << ::strerror(errno) << "\n";
    return nullptr;
  }
  UniqueFd out_read(out[0]), out_write(out[1]);
  if (!verbose) {
    // Unlinked at once: the directory then holds only the socket, which the
    // daemon removes with the directory even if we are SIGKILLed.
    daemon->log_fd_ = ::open(daemon->log_.c_str(),
                             O_CREAT | O_RDWR | O_TRUNC | O_CLOEXEC, 0600);
    ::unlink(daemon->log_.c_str());
  }
  std::vector<std::string> argv = {simd, "--socket=" + daemon->socket_,
                                   absl::StrCat("--owner-pid=", ::getpid())};
  if (!device_profile.empty()) {
    argv.push_back("--device-profile=" + device_profile);
  }
  if (!script.empty()) argv.push_back("--script=" + AbsolutePath(script));
  // Its own process group: a terminal's Ctrl-C must not stop the daemon
  // before the summary.
  if (int rc = SpawnProcess(argv, CurrentEnvironment(), /*search_path=*/false,
                            out_write.get(), daemon->log_fd_,
                            /*own_group=*/true, &daemon->pid_);
      rc != 0) {
    daemon->pid_ = -1;
    err << "xehil sim-run: cannot start " << simd << ": " << ::strerror(rc)
        << "\n";
    return nullptr;
  }
  out_write.reset();
  const std::string line = ReadLine(out_read.get(), kStartTimeoutMs);
  if (line != "listening on " + daemon->socket_) {
    err << "xehil sim-run: xehil-simd did not start ("
        << (line.empty() ? "no \"listening on\" line" : line) << ")\n";
    daemon->Stop();
    err << ReadAll(daemon->log_fd_);
    return nullptr;
  }
  return daemon;
}

SimdDaemon::SimdDaemon(std::string dir)
    : dir_(std::move(dir)),
      socket_(dir_ + "/simd.sock"),
      log_(dir_ + "/simd.log") {}

SimdDaemon::~SimdDaemon() {
  Stop();
  if (log_fd_ >= 0) ::close(log_fd_);
  ::unlink(socket_.c_str());
  ::rmdir(dir_.c_str());
}

void SimdDaemon::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  WaitForExit(pid_);
  pid_ = -1;
}

}  // namespace xehil
