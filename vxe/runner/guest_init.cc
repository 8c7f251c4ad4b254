// vxe-init: PID 1 of a vm-run guest (see vm_runner.h for the whole picture).
// Mounts what programs expect, reads the run's spec from the run directory
// share, loads modules, starts the daemon and waits for its "ready" line,
// runs the program with its output copied to files in the run directory
// (the host streams them), stops the daemon, writes the status file and ends
// the VM through isa-debug-exit. Diagnostics go to the kernel console.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "vxe/runner/guest_spec.h"
#include "vxe/runner/guest_system.h"

namespace xehil::vxe {
namespace {

void Say(const std::string& message) {
  std::string line = "vxe-init: " + message + "\n";
  WriteAll(STDERR_FILENO, line.data(), line.size());
}

// A child whose output pipes are copied to the run directory as it comes.
struct Child {
  pid_t pid = -1;
  bool exited = false;
  int wait_status = 0;
};

struct Stream {
  int from = -1;  // pipe read end; -1 once at EOF
  int to = -1;    // output file in the run directory
  // The daemon's stdout is scanned for the ready line until it is seen.
  bool scan_ready = false;
  std::string line;
};

class Init {
 public:
  int Run();

 private:
  std::string Setup();
  std::string Spawn(const std::vector<std::string>& argv, int out_to,
                    int err_to, bool scan_ready, Child* child);
  // Copies output and reaps children until `done()` or the deadline (ms,
  // guest boot time; 0: none). Returns false at the deadline.
  template <typename Done>
  bool Pump(Done done, double deadline_ms);
  void Reap();
  std::string StartDaemon();
  void StopDaemon();
  void Finish(int exit_value);

  GuestSpec spec_;
  GuestStatus status_;
  int ports_[3] = {-1, -1, -1};  // stdout, stderr, daemon output files
  int signal_fd_ = -1;
  std::vector<Stream> streams_;
  Child program_, daemon_;
  bool ready_ = false;
};

std::string Init::Setup() {
  std::string error = MountGuestFilesystems();
  std::string text;
  if (error.empty()) {
    error = ReadWholeFile(std::string(kGuestRunDir) + "/" + kSpecFile, &text);
  }
  if (error.empty() && !DecodeGuestSpec(text, &spec_, &error)) {
    error = "bad spec: " + error;
  }
  const char* names[] = {kStdoutFile, kStderrFile, kDaemonFile};
  for (int i = 0; i < 3 && error.empty(); ++i) {
    error =
        OpenForWriting(std::string(kGuestRunDir) + "/" + names[i], &ports_[i]);
  }
  if (!error.empty()) return error;
  // posix_spawnp searches the caller's PATH: use the program's.
  for (const std::string& var : spec_.env) {
    if (var.rfind("PATH=", 0) == 0) ::setenv("PATH", var.c_str() + 5, 1);
  }
  if (::chdir(spec_.cwd.c_str()) != 0) {
    return "working directory " + spec_.cwd + ": " + strerror(errno) +
           " (the guest sees the host's filesystem read-only, with its own "
           "/run, /dev and a /tmp that links to what the host's /tmp held at "
           "boot)";
  }
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child, nullptr);
  signal_fd_ = ::signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ < 0) return std::string("signalfd: ") + strerror(errno);
  for (const std::string& module : spec_.modules) {
    error = LoadModule(module);
    if (!error.empty()) return error;
  }
  return "";
}

std::string Init::Spawn(const std::vector<std::string>& argv, int out_to,
                        int err_to, bool scan_ready, Child* child) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    return std::string("pipe: ") + strerror(errno);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
  std::vector<char*> args, env;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : spec_.env) {
    env.push_back(const_cast<char*>(e.c_str()));
  }
  env.push_back(nullptr);
  const int rc = ::posix_spawnp(&child->pid, args[0], &actions, &attr,
                                args.data(), env.data());
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  ::close(err[1]);
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    child->pid = -1;
    errno = rc;
    return "exec " + argv[0] + ": " + strerrorname_np(rc) + " (" +
           strerror(rc) + ")";
  }
  for (int fd : {out[0], err[0]}) {
    ::fcntl(fd, F_SETFL, O_NONBLOCK);
  }
  streams_.push_back(Stream{out[0], out_to, scan_ready, ""});
  streams_.push_back(Stream{err[0], err_to, false, ""});
  return "";
}

void Init::Reap() {
  signalfd_siginfo info;
  while (::read(signal_fd_, &info, sizeof(info)) > 0) {
  }
  int wait_status = 0;
  pid_t pid;
  // PID 1 also reaps orphans the program leaves behind.
  while ((pid = ::waitpid(-1, &wait_status, WNOHANG)) > 0) {
    for (Child* c : {&program_, &daemon_}) {
      if (c->pid == pid) {
        c->exited = true;
        c->wait_status = wait_status;
      }
    }
  }
}

template <typename Done>
bool Init::Pump(Done done, double deadline_ms) {
  char buffer[16384];
  for (;;) {
    Reap();
    // A stream of an exited child is drained without waiting: a grandchild
    // may hold its pipe open.
    const bool draining = done();
    std::vector<pollfd> fds{{signal_fd_, POLLIN, 0}};
    for (const Stream& s : streams_) {
      if (s.from >= 0) fds.push_back({s.from, POLLIN, 0});
    }
    int timeout = draining ? 0 : -1;
    if (!draining && deadline_ms > 0) {
      const double left = deadline_ms - BootTimeMs();
      if (left <= 0) return false;
      timeout = static_cast<int>(left) + 1;
    }
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return true;
    if (n <= 0 && draining) return true;
    for (Stream& s : streams_) {
      if (s.from < 0) continue;
      const ssize_t got = ::read(s.from, buffer, sizeof(buffer));
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        ::close(s.from);
        s.from = -1;
        continue;
      }
      if (got < 0) continue;
      std::string chunk(buffer, static_cast<size_t>(got));
      if (s.scan_ready) {
        // Everything but the ready line itself goes on to the daemon port.
        s.line += chunk;
        chunk.clear();
        size_t eol;
        while (s.scan_ready && (eol = s.line.find('\n')) != std::string::npos) {
          std::string line = s.line.substr(0, eol);
          s.line.erase(0, eol + 1);
          if (line == kDaemonReadyLine) {
            ready_ = true;
            s.scan_ready = false;
          } else {
            chunk += line + "\n";
          }
        }
        if (!s.scan_ready) chunk += s.line;
      }
      WriteAll(s.to, chunk.data(), chunk.size());
    }
  }
}

std::string Init::StartDaemon() {
  std::string error =
      Spawn(spec_.daemon, ports_[2], ports_[2], /*scan_ready=*/true, &daemon_);
  if (!error.empty()) return "daemon: " + error;
  status_.daemon_ran = true;
  const double deadline = BootTimeMs() + spec_.daemon_ready_timeout_ms;
  if (!Pump([&] { return ready_ || daemon_.exited; }, deadline)) {
    return "daemon " + spec_.daemon[0] + " printed no '" + kDaemonReadyLine +
           "' line within " + std::to_string(spec_.daemon_ready_timeout_ms) +
           " ms";
  }
  if (!ready_) {
    return "daemon " + spec_.daemon[0] + " exited (wait status " +
           std::to_string(daemon_.wait_status) + ") before it was ready";
  }
  return "";
}

void Init::StopDaemon() {
  if (daemon_.pid <= 0) return;
  if (!daemon_.exited) {
    ::kill(daemon_.pid, SIGTERM);
    const double deadline = BootTimeMs() + spec_.daemon_stop_timeout_ms;
    if (!Pump([&] { return daemon_.exited; }, deadline)) {
      Say("daemon did not stop on SIGTERM; killing it");
      status_.daemon_killed = true;
      ::kill(daemon_.pid, SIGKILL);
      Pump([&] { return daemon_.exited; }, 0);
    }
  }
  Pump([] { return true; }, 0);  // what it printed last
  status_.daemon_wait_status = daemon_.wait_status;
}

void Init::Finish(int exit_value) {
  if (!status_.error.empty()) Say(status_.error);
  const std::string error =
      WriteWholeFile(std::string(kGuestRunDir) + "/" + kStatusFile,
                     EncodeGuestStatus(status_));
  if (!error.empty()) {
    Say(error);
    exit_value = kExitFailed;
  }
  ExitVm(exit_value);
}

int Init::Run() {
  status_.error = Setup();
  if (!status_.error.empty()) Finish(kExitFailed);
  if (!spec_.daemon.empty()) {
    status_.error = StartDaemon();
    if (!status_.error.empty()) {
      StopDaemon();
      Finish(kExitDone);
    }
  }
  status_.boot_to_program_ms = BootTimeMs();
  const std::string error =
      Spawn(spec_.argv, ports_[0], ports_[1], /*scan_ready=*/false, &program_);
  if (!error.empty()) {
    status_.exec_errno = errno;
    status_.error = error;
  } else {
    status_.program_ran = true;
    Pump([&] { return program_.exited; }, 0);
    status_.program_wait_status = program_.wait_status;
    status_.program_ms = BootTimeMs() - status_.boot_to_program_ms;
  }
  StopDaemon();
  Finish(kExitDone);
  return 0;
}

}  // namespace
}  // namespace xehil::vxe

int main() {
  if (::getpid() != 1) {
    std::fprintf(stderr,
                 "vxe-init is the init of a vm-run guest (xehil vm-run), not "
                 "a command\n");
    return 2;
  }
  xehil::vxe::Init init;
  return init.Run();
}
