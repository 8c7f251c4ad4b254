// Test helpers for running programs under libxehil_preload.so against a
// real xehil-simd daemon: start the daemon on a fresh short socket path and
// wait for its "listening on" line; run a program with LD_PRELOAD,
// XEHIL_SIMD_SOCKET and XEHIL_PRELOAD_STRICT=1 in its environment (through
// env(1), so the test process itself never has the interposer loaded).
//
//   absl::StatusOr<std::unique_ptr<SimdDaemon>> daemon =
//       SimdDaemon::Start(Runfile(argv[2]), {"--script=..."});
//   CommandResult r = RunUnderPreload(Runfile(argv[1]), (*daemon)->socket(),
//                                     Runfile(argv[3]), {"eof"});
//   EXPECT_EQ(r.exit_code, 0) << r.output;
#ifndef XEHIL_SIM_PRELOAD_PRELOAD_TEST_UTIL_H_
#define XEHIL_SIM_PRELOAD_PRELOAD_TEST_UTIL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/testing/child_process.h"

namespace xehil::preload::testing {

using process_testing::CommandResult;

// A runfiles-relative path (as $(rootpath) gives it) made absolute.
std::string Runfile(const std::string& rootpath);

// The LD_PRELOAD value that loads `preload` in this build. Plain and TSan
// builds: the interposer alone (TSan's runtime, a dependency of the
// program, then sits behind it, so TSan sees the interposer's own locks and
// syscalls; were it first, its blocking interceptors would hide the locks
// the interposer takes inside poll and read, and report false races). ASan
// builds: ASan's runtime first, which it insists on. "" when the ASan
// runtime cannot be found.
std::string PreloadList(const std::string& preload);

// The undefined (imported) dynamic symbols of an ELF file, unversioned, from
// `readelf --dyn-syms` (binutils); empty if readelf fails.
std::vector<std::string> DynamicImports(const std::string& path);

class SimdDaemon {
 public:
  // Starts `daemon_path` on a new socket in a fresh /tmp directory (short
  // enough for sun_path) with `flags` added.
  static absl::StatusOr<std::unique_ptr<SimdDaemon>> Start(
      const std::string& daemon_path, const std::vector<std::string>& flags);
  ~SimdDaemon();  // SIGTERM, reap, remove the directory

  const std::string& socket() const { return socket_; }
  // SIGKILL, and wait until it is gone (its connections are then closed).
  void Kill();
  // What the daemon wrote to stderr so far (its log).
  std::string Log() const { return process_->StderrText(); }

 private:
  SimdDaemon() = default;
  std::string dir_, socket_;
  std::unique_ptr<process_testing::ChildProcess> process_;
};

// Runs `program args...` under the interposer (PreloadList) with
// XEHIL_PRELOAD_STRICT=1;
// `socket` empty leaves XEHIL_SIMD_SOCKET unset. `env` adds NAME=VALUE
// entries. Output is stdout then stderr.
CommandResult RunUnderPreload(const std::string& preload,
                              const std::string& socket,
                              const std::string& program,
                              const std::vector<std::string>& args,
                              const std::vector<std::string>& env = {});

// RunUnderPreload, but returns the running child.
absl::StatusOr<std::unique_ptr<process_testing::ChildProcess>> StartUnderPreload(
    const std::string& preload, const std::string& socket,
    const std::string& program, const std::vector<std::string>& args,
    const std::vector<std::string>& env = {});

// The FIFO a probe's pause points wait on (XEHIL_PROBE_FIFO): held open for
// writing here for its whole life, so each Resume() byte waits in the FIFO
// until the probe reads it, whoever comes first.
class PauseFifo {
 public:
  static absl::StatusOr<std::unique_ptr<PauseFifo>> Create();
  ~PauseFifo();
  // "XEHIL_PROBE_FIFO=<path>", for the probe's environment.
  std::string EnvEntry() const;
  // Lets the probe past one pause point.
  absl::Status Resume();

 private:
  PauseFifo() = default;
  std::string dir_, path_;
  int fd_ = -1;
};

}  // namespace xehil::preload::testing

#endif  // XEHIL_SIM_PRELOAD_PRELOAD_TEST_UTIL_H_
