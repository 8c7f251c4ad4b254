#include "common/testing/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

extern char** environ;

namespace xehil::process_testing {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::string& program, const std::vector<std::string>& args) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoToStatus(-errno, "pipe2");
  if (pipe2(err, O_CLOEXEC) != 0) {
    const int e = errno;
    close(out[0]);
    close(out[1]);
    return ErrnoToStatus(-e, "pipe2");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program.c_str()));
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr,
                              argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    return ErrnoToStatus(-rc, absl::StrCat("posix_spawn ", program));
  }
  std::unique_ptr<ChildProcess> child(new ChildProcess());
  child->pid_ = pid;
  ChildProcess* c = child.get();
  child->out_reader_ = std::thread(
      [c, fd = out[0]] { c->ReadLoop(fd, &c->out_, &c->out_eof_); });
  child->err_reader_ = std::thread(
      [c, fd = err[0]] { c->ReadLoop(fd, &c->err_, &c->err_eof_); });
  return child;
}

ChildProcess::~ChildProcess() {
  if (!exit_code_.has_value() && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

void ChildProcess::ReadLoop(int fd, std::string* buffer, bool* eof) {
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    absl::MutexLock lock(&mu_);
    if (n <= 0) {
      *eof = true;
      break;
    }
    buffer->append(chunk, static_cast<size_t>(n));
  }
  close(fd);
}

std::optional<std::string> ChildProcess::NextStdoutLine(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto line_or_eof = [this] {
    mu_.AssertReaderHeld();
    return out_.find('\n', out_consumed_) != std::string::npos || out_eof_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&line_or_eof), timeout);
  const size_t newline = out_.find('\n', out_consumed_);
  if (newline == std::string::npos) return std::nullopt;
  std::string line = out_.substr(out_consumed_, newline - out_consumed_);
  out_consumed_ = newline + 1;
  return line;
}

bool ChildProcess::StderrHasLocked(
    const std::vector<std::string>& parts) const {
  for (absl::string_view line : absl::StrSplit(err_, '\n')) {
    bool all = true;
    for (const std::string& part : parts) {
      all = all && absl::StrContains(line, part);
    }
    if (all) return true;
  }
  return false;
}

bool ChildProcess::WaitForStderr(const std::vector<std::string>& parts,
                                 absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto logged = [&] {
    mu_.AssertReaderHeld();
    return StderrHasLocked(parts);
  };
  return mu_.AwaitWithTimeout(absl::Condition(&logged), timeout);
}

std::string ChildProcess::StderrText() const {
  absl::MutexLock lock(&mu_);
  return err_;
}

std::string ChildProcess::StdoutText() const {
  absl::MutexLock lock(&mu_);
  return out_;
}

void ChildProcess::Signal(int signal_number) {
  if (!exit_code_.has_value()) kill(pid_, signal_number);
}

std::optional<int> ChildProcess::WaitExit(absl::Duration timeout) {
  if (exit_code_.has_value()) return exit_code_;
  {
    // Both pipes close when the process is gone (it has no children).
    absl::MutexLock lock(&mu_);
    auto closed = [this] {
      mu_.AssertReaderHeld();
      return out_eof_ && err_eof_;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&closed), timeout)) {
      return std::nullopt;
    }
  }
  int status = 0;
  if (waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

CommandResult RunCommand(const std::string& program,
                         const std::vector<std::string>& args,
                         absl::Duration timeout) {
  CommandResult result;
  absl::StatusOr<std::unique_ptr<ChildProcess>> child =
      ChildProcess::Start(program, args);
  if (!child.ok()) {
    result.output = child.status().ToString();
    return result;
  }
  std::optional<int> code = (*child)->WaitExit(timeout);
  result.exit_code = code.value_or(-1);
  result.output = (*child)->StdoutText() + (*child)->StderrText();
  return result;
}

}  // namespace xehil::process_testing
