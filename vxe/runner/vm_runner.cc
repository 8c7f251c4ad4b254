#include "vxe/runner/vm_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/errno_status.h"
#include "core/base/monotonic_clock.h"
#include "core/base/unique_fd.h"
#include "vxe/runner/guest_system.h"
#include "vxe/runner/qemu_command.h"
#include "vxe/runner/run_dir.h"

extern char** environ;

namespace xehil::vxe {
namespace {

constexpr size_t kConsoleKeep = 64 * 1024;
constexpr int kTailLines = 30;
// timeout(1) ends QEMU this long after our own deadline should have.
constexpr int kBackstopSeconds = 10;

double NowMs() { return static_cast<double>(MonotonicNowNs()) / 1e6; }

std::string Slurp(const std::string& path, bool* found) {
  std::string text;
  *found = ReadWholeFile(path, &text).empty();
  return text;
}

// Where each serial port's bytes go: a descriptor, or a string.
struct Sink {
  UniqueFd from;
  int to = -1;
  std::string* keep = nullptr;
  size_t keep_limit = 0;
};

void Deliver(Sink& sink, const char* data, size_t size) {
  if (sink.to >= 0) WriteAll(sink.to, data, size);
  if (sink.keep != nullptr) {
    sink.keep->append(data, size);
    if (sink.keep_limit > 0 && sink.keep->size() > sink.keep_limit) {
      sink.keep->erase(0, sink.keep->size() - sink.keep_limit);
    }
  }
}

// Reads what is available; false at EOF (for a FIFO or pipe: for good) or
// on an error.
bool Drain(Sink& sink) {
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(sink.from.get(), buffer, sizeof(buffer));
    if (n > 0) {
      Deliver(sink, buffer, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

absl::Status GuestFailure(const std::string& what, const VmRunResult& result) {
  return absl::InternalError(absl::StrCat(
      what, "\nlast lines of the guest console:\n", result.console_tail));
}

}  // namespace

std::string LastLines(const std::string& text, int lines) {
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (int i = 0; i < lines && pos != std::string::npos && pos > 0; ++i) {
    pos = text.rfind('\n', pos - 1);
  }
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : "";
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(
           path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

absl::StatusOr<VmRunResult> RunInVm(const VmRunOptions& options) {
  QemuConfig config;
  config.qemu = FindExecutable(options.qemu);
  if (config.qemu.empty()) {
    return absl::NotFoundError(absl::StrCat(
        options.qemu,
        " not found: install qemu-system-x86 (./scripts/install-deps.sh)"));
  }
  config.kernel = options.kernel_dir + "/vmlinux";
  if (::access(config.kernel.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "no vxe kernel at ", config.kernel,
        ": build it with vxe/kernel/build-kernel.sh (once per machine)"));
  }
  if (options.init.empty() || ::access(options.init.c_str(), X_OK) != 0 ||
      options.init.find_first_of(" \t\n") != std::string::npos) {
    return absl::NotFoundError(absl::StrCat(
        "guest init '", options.init, "' missing (//vxe/runner:vxe-init)"));
  }
  if (options.argv.empty()) {
    return absl::InvalidArgumentError("no program to run");
  }
  config.init = options.init;
  config.accel = options.accel;
  config.cpus = options.cpus;
  config.memory_mb = options.memory_mb;
  config.extra_kernel_args = options.extra_kernel_args;

  GuestSpec spec;
  spec.argv = options.argv;
  spec.env = options.env;
  spec.cwd = options.cwd;
  if (spec.cwd.empty()) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof(cwd)) == nullptr) {
      return ErrnoToStatus(errno, "getcwd");
    }
    spec.cwd = cwd;
  }
  spec.daemon = options.guest_daemon;
  spec.daemon_ready_timeout_ms = options.daemon_ready_timeout_ms;
  spec.daemon_stop_timeout_ms = options.daemon_stop_timeout_ms;

  RunDir dir;
  if (absl::Status s = dir.Create(); !s.ok()) return s;
  config.run_share = dir.share();
  for (size_t i = 0; i < options.guest_modules.size(); ++i) {
    absl::StatusOr<std::string> staged =
        dir.StageModule(options.guest_modules[i], static_cast<int>(i));
    if (!staged.ok()) return staged.status();
    spec.modules.push_back(*staged);
  }
  config.console = dir.console();
  const std::string spec_path = absl::StrCat(dir.share(), "/", kSpecFile);
  if (std::string e = WriteWholeFile(spec_path, EncodeGuestSpec(spec));
      !e.empty()) {
    return absl::InternalError(e);
  }

  VmRunResult result;
  std::string console, qemu_log;
  // 0: console FIFO, 1-3: output files (stdout, stderr, daemon), 4: QEMU's
  // own output.
  Sink sinks[5];
  sinks[0].to = options.console_fd;
  sinks[0].keep = &console;
  sinks[0].keep_limit = kConsoleKeep;
  sinks[1].to = options.stdout_fd;
  sinks[2].to = options.stderr_fd;
  sinks[3].to = options.daemon_output_fd;
  if (options.daemon_output_fd < 0) sinks[3].keep = &result.daemon_output;
  sinks[4].keep = &qemu_log;
  // Opened before QEMU starts, so its open of the FIFO does not block.
  const std::string inputs[4] = {dir.console(), dir.Shared(kStdoutFile),
                                 dir.Shared(kStderrFile),
                                 dir.Shared(kDaemonFile)};
  for (int i = 0; i < 4; ++i) {
    sinks[i].from.reset(
        ::open(inputs[i].c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!sinks[i].from.valid()) {
      return ErrnoToStatus(errno, "open " + inputs[i]);
    }
  }
  // The output files grow as the guest writes them: inotify says when.
  UniqueFd changes(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!changes.valid() ||
      ::inotify_add_watch(changes.get(), dir.share().c_str(), IN_MODIFY) < 0) {
    return ErrnoToStatus(errno, "inotify on " + dir.share());
  }
  int log_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  sinks[4].from.reset(log_pipe[0]);
  UniqueFd log_write(log_pipe[1]);
  ::fcntl(sinks[4].from.get(), F_SETFL, O_NONBLOCK);

  const int timeout_s = static_cast<int>(std::ceil(options.timeout_s));
  std::vector<std::string> argv = {"timeout", "--foreground", "--kill-after=2",
                                   absl::StrCat(timeout_s + kBackstopSeconds)};
  for (std::string& arg : QemuArgv(config)) argv.push_back(std::move(arg));
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_write.get(), STDERR_FILENO);
  pid_t pid = -1;
  const double started = NowMs();
  const int rc =
      ::posix_spawnp(&pid, "timeout", &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  log_write.reset();
  if (rc != 0) return ErrnoToStatus(rc, "spawn timeout(1) for QEMU");

  // Until QEMU's own output closes (it has exited), copy all output.
  const double deadline = started + options.timeout_s * 1000;
  bool timed_out = false, cancelled = false, log_open = true;
  char events[4096];
  while (log_open) {
    pollfd fds[4] = {{sinks[0].from.get(), POLLIN, 0},
                     {sinks[4].from.get(), POLLIN, 0},
                     {changes.get(), POLLIN, 0},
                     {cancelled ? -1 : options.cancel_fd, POLLIN, 0}};
    const double left = deadline - NowMs();
    if (left <= 0 && !timed_out) {
      timed_out = true;
      ::kill(pid, SIGTERM);  // timeout(1) passes it on; KILL 2 s later
    }
    const int n = ::poll(fds, 4, timed_out ? -1 : static_cast<int>(left) + 1);
    if (n > 0 && fds[3].revents != 0 && !cancelled) {
      cancelled = true;
      ::kill(pid, SIGTERM);
    }
    while (::read(changes.get(), events, sizeof(events)) > 0) {
    }
    for (int i = 0; i < 4; ++i) Drain(sinks[i]);
    log_open = Drain(sinks[4]);
  }
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  for (int i = 0; i < 4; ++i) Drain(sinks[i]);
  result.wall_ms = NowMs() - started;
  result.console_tail = LastLines(console, kTailLines);

  if (cancelled) {
    return absl::CancelledError(
        "stopped on request; the guest was killed; last lines of its "
        "console:\n" +
        result.console_tail);
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat("the guest did not finish within ", options.timeout_s,
                     " s and was killed; last lines of its console:\n",
                     result.console_tail));
  }
  bool found = false;
  const std::string status_text =
      Slurp(absl::StrCat(dir.share(), "/", kStatusFile), &found);
  const int qemu_status =
      WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  if (!found) {
    if (qemu_status == 0) {
      return GuestFailure(
          "the guest kernel stopped (panic or reboot) "
          "before the program finished",
          result);
    }
    if (qemu_status == kExitFailed * 2 + 1) {
      return GuestFailure("the guest init failed before writing a status",
                          result);
    }
    return GuestFailure(absl::StrCat("QEMU failed (exit status ", qemu_status,
                                     "): ", LastLines(qemu_log, 10)),
                        result);
  }
  std::string error;
  if (!DecodeGuestStatus(status_text, &result.guest, &error)) {
    return GuestFailure("unreadable guest status: " + error, result);
  }
  if (result.guest.program_ran) {
    result.exit_code = ExitCodeOf(result.guest.program_wait_status);
    return result;
  }
  if (result.guest.exec_errno != 0) {
    result.exit_code = 127;
    return result;
  }
  return GuestFailure("in the guest: " + result.guest.error, result);
}

}  // namespace xehil::vxe
