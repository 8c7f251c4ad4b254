// Processes for `xehil sim-run`: spawning with posix_spawn (safe beside
// threads), the xehil-simd child it starts, and finding the interposer and
// the daemon in this binary's runfiles.
//
//   std::unique_ptr<SimdDaemon> daemon =
//       SimdDaemon::Start("/path/xehil-simd", "dg2-16g", "", false, std::cerr);
//   if (daemon != nullptr) use(daemon->socket());  // stopped on destruction
#ifndef XEHIL_TOOLS_XEHIL_SIM_RUN_PROCESS_H_
#define XEHIL_TOOLS_XEHIL_SIM_RUN_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace xehil {

// posix_spawn (or posix_spawnp with `search_path`) of argv with `env`;
// stdout/stderr go to the given descriptors (-1: inherited). SIGINT,
// SIGTERM and SIGPIPE start with their default dispositions; `own_group`
// puts the child in a process group of its own (a terminal's Ctrl-C then
// does not reach it). With `death_signal`, the child gets that signal when
// this process dies (PR_SET_PDEATHSIG, even if it is SIGKILLed), so it is
// never orphaned. Returns 0 or the errno.
int SpawnProcess(const std::vector<std::string>& argv,
                 const std::vector<std::string>& env, bool search_path,
                 int stdout_fd, int stderr_fd, bool own_group, pid_t* pid,
                 int death_signal = 0);

// waitpid() until `pid` exits; its status.
int WaitForExit(pid_t pid);

// This process's environment as NAME=VALUE strings.
std::vector<std::string> CurrentEnvironment();

// `path` made absolute against the working directory.
std::string AbsolutePath(const std::string& path);

// The path of `runfile` (workspace-relative, e.g. "sim/simd/xehil-simd")
// for this binary: $RUNFILES_DIR, $TEST_SRCDIR, <binary>.runfiles, then the
// binary's own directory (basename only); "" if none exists. `looked` gets
// every candidate.
std::string FindRunfile(const std::string& runfile,
                        std::vector<std::string>* looked);

// An xehil-simd child on a socket in a temporary directory of its own. The
// daemon is started with --owner-pid: if this process dies without stopping
// it (SIGKILL), it stops by itself and removes the directory.
class SimdDaemon {
 public:
  // Starts `simd` and waits (10 s at most) for its "listening on" line.
  // Its log goes to `err` if `verbose`, else to a file that is shown only
  // if it fails to start. nullptr after telling `err` why.
  static std::unique_ptr<SimdDaemon> Start(const std::string& simd,
                                           const std::string& device_profile,
                                           const std::string& script,
                                           bool verbose, std::ostream& err);
  // Stops the daemon (SIGTERM, then waits) and removes the directory.
  ~SimdDaemon();
  SimdDaemon(const SimdDaemon&) = delete;
  SimdDaemon& operator=(const SimdDaemon&) = delete;

  void Stop();
  const std::string& socket() const { return socket_; }

 private:
  explicit SimdDaemon(std::string dir);

  const std::string dir_;
  const std::string socket_;
  const std::string log_;
  int log_fd_ = -1;  // the log, already unlinked (-1 with --verbose)
  pid_t pid_ = -1;
};

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_SIM_RUN_PROCESS_H_
