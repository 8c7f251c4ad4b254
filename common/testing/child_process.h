// ChildProcess: a program started the way users start it (posix_spawn, the
// test's environment, stdin from /dev/null), with its stdout and stderr read
// by two owned threads, so tests can wait for a line with a deadline instead
// of sleeping.
//
//   absl::StatusOr<std::unique_ptr<ChildProcess>> agent = ChildProcess::Start(
//       "tools/agent/xehil-agent", {"--listen=127.0.0.1:0"});
//   std::optional<std::string> line = (*agent)->NextStdoutLine(kLongWait);
//   (*agent)->WaitForStderr({"\"event\":\"released\""}, absl::Seconds(5));
//   (*agent)->Signal(SIGTERM);
//   std::optional<int> code = (*agent)->WaitExit(kLongWait);  // 0
//
// The destructor SIGKILLs a child still running and reaps it.
#ifndef XEHIL_COMMON_TESTING_CHILD_PROCESS_H_
#define XEHIL_COMMON_TESTING_CHILD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xehil::process_testing {

class ChildProcess {
 public:
  // `program` is a path, or a name looked up in PATH.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Start(
      const std::string& program, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  // The next complete stdout line (without '\n'); nullopt at EOF or timeout.
  std::optional<std::string> NextStdoutLine(absl::Duration timeout);
  // True once one stderr line contains every part.
  bool WaitForStderr(const std::vector<std::string>& parts,
                     absl::Duration timeout);
  std::string StderrText() const;
  std::string StdoutText() const;

  void Signal(int signal_number);
  // The exit code, or 128 + the signal that killed it; nullopt on timeout.
  std::optional<int> WaitExit(absl::Duration timeout);

 private:
  ChildProcess() = default;
  void ReadLoop(int fd, std::string* buffer, bool* eof);
  bool StderrHasLocked(const std::vector<std::string>& parts) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;

  mutable absl::Mutex mu_;
  std::string out_ ABSL_GUARDED_BY(mu_);
  std::string err_ ABSL_GUARDED_BY(mu_);
  size_t out_consumed_ ABSL_GUARDED_BY(mu_) = 0;
  bool out_eof_ ABSL_GUARDED_BY(mu_) = false;
  bool err_eof_ ABSL_GUARDED_BY(mu_) = false;
  std::thread out_reader_, err_reader_;
};

// Runs a program to its end: {exit code, stdout + stderr}.
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& program,
                         const std::vector<std::string>& args,
                         absl::Duration timeout = absl::Seconds(20));

}  // namespace xehil::process_testing

#endif  // XEHIL_COMMON_TESTING_CHILD_PROCESS_H_
