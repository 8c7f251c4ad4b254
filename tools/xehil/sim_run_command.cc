#include "tools/xehil/sim_run_command.h"

#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/read_file.h"
#include "sim/simd/client.h"
#include "sim/simd/script.h"
#include "sim/simd/wire.h"
#include "tools/xehil/sim_run_hints.h"
#include "tools/xehil/sim_run_process.h"
#include "tools/xehil/sim_run_summary.h"

namespace xehil {
namespace {

constexpr char kPreloadRunfile[] = "sim/preload/libxehil_preload.so";
constexpr char kSimdRunfile[] = "sim/simd/xehil-simd";
constexpr int kExitSetup = 1;
constexpr int kExitUsage = 2;
constexpr int kExitNotRun = 127;
constexpr uint32_t kReleaseTimeoutMs = 5000;

// The program's pid while it runs, for the SIGTERM forwarder.
std::atomic<pid_t> running_child{0};

void ForwardSignal(int signal) {
  const pid_t child = running_child.load();
  // SIGINT from a terminal already reached the program (same process
  // group); forward only what was aimed at us.
  if (child > 0 && signal != SIGINT) ::kill(child, signal);
}

int ExitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitSetup;
}

std::string Describe(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return absl::StrCat("was killed by signal ", WTERMSIG(status), " (",
                        ::strsignal(WTERMSIG(status)), ")");
  }
  return "ended";
}

// The ASan runtime this binary runs with, or "" (not an ASan build).
std::string SanitizerRuntime() {
#if defined(__SANITIZE_ADDRESS__)
  void* init = ::dlsym(RTLD_DEFAULT, "__asan_init");
  Dl_info info{};
  if (init != nullptr && ::dladdr(init, &info) != 0 &&
      info.dli_fname != nullptr) {
    return info.dli_fname;
  }
#endif
  return "";
}

absl::StatusOr<sim::DeviceStatus> Status(simd::Client& control) {
  sim::ControlRequest request;
  request.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control.Control(request);
  if (!reply.ok()) return reply.status();
  return reply->status();
}

// The program's exit status (as waitpid gives it), or nullopt with `err`
// told why it could not run.
std::optional<int> RunProgram(const SimRunOptions& options,
                              const std::string& preload,
                              const std::string& socket,
                              const std::string& report, pid_t* pid,
                              std::ostream& err) {
  std::vector<std::string> env;
  std::string ld_preload;
  for (std::string& entry : CurrentEnvironment()) {
    if (absl::StartsWith(entry, "LD_PRELOAD=")) {
      ld_preload = entry.substr(sizeof("LD_PRELOAD=") - 1);
    } else if (!absl::StartsWith(entry, absl::StrCat(simd::kSocketEnv, "="))) {
      env.push_back(std::move(entry));
    }
  }
  std::vector<std::string> preloads;
  // An ASan build's interposer is instrumented too, and ASan insists that
  // its runtime is the first library loaded.
  if (std::string asan = SanitizerRuntime(); !asan.empty()) {
    preloads.push_back(std::move(asan));
  }
  if (!ld_preload.empty()) preloads.push_back(ld_preload);
  preloads.push_back(preload);
  env.push_back(absl::StrCat("LD_PRELOAD=", absl::StrJoin(preloads, ":")));
  env.push_back(absl::StrCat(simd::kSocketEnv, "=", socket));
  if (!report.empty())
    env.push_back(absl::StrCat(kPreloadReportEnv, "=", report));

  struct sigaction forward = {};
  forward.sa_handler = ForwardSignal;
  sigemptyset(&forward.sa_mask);
  struct sigaction old_int = {};
  struct sigaction old_term = {};
  struct sigaction old_hup = {};
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);
  ::sigaction(SIGHUP, &forward, &old_hup);
  std::optional<int> status;
  // SIGKILL if we die: the program must not outlive its simulated device.
  const int rc =
      SpawnProcess(options.command, env, /*search_path=*/true, -1, -1,
                   /*own_group=*/false, pid, /*death_signal=*/SIGKILL);
  if (rc != 0) {
    err << "xehil sim-run: cannot run " << options.command[0] << ": "
        << ::strerror(rc) << "\n";
  } else {
    running_child.store(*pid);
    status = WaitForExit(*pid);
    running_child.store(0);
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  ::sigaction(SIGHUP, &old_hup, nullptr);
  return status;
}

// An empty file for the interposer's pipe reports; "" if none can be made
// (the run goes on without hints).
std::string MakeReportFile() {
  const char* tmp = ::getenv("TMPDIR");
  std::string path = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                  "/xehil-sim-run-XXXXXX");
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return "";
  ::close(fd);
  return path;
}

// Prints the listener hints the interposer's reports give, and removes the
// report file.
void PrintListenerHints(const std::string& report, std::ostream& err) {
  if (report.empty()) return;
  absl::StatusOr<std::string> text = ReadFileToString(report, "pipe report");
  ::unlink(report.c_str());
  if (!text.ok()) return;
  for (const std::string& hint : ListenerHints(*text)) err << hint;
}

}  // namespace

int RunSimRun(const SimRunOptions& options, std::ostream& err) {
  // A closed stderr (`2>&1 | head -1`) must not kill us before the daemon
  // is stopped; the program gets SIGPIPE's default back.
  ::signal(SIGPIPE, SIG_IGN);
  if (options.command.empty()) {
    err << "xehil sim-run: missing the program: xehil sim-run [flags] -- "
           "PROGRAM ARGS...\n";
    return kExitUsage;
  }
  if (!options.socket.empty() && !options.device_profile.empty()) {
    err << "xehil sim-run: --device-profile only applies to a daemon sim-run "
           "starts; the one at --socket already has its device\n";
    return kExitUsage;
  }
  std::optional<sim::SimdScript> script;
  if (!options.script.empty()) {
    absl::StatusOr<sim::SimdScript> loaded =
        simd::LoadScriptFile(options.script);
    if (!loaded.ok()) {
      err << "xehil sim-run: bad --script:\n"
          << loaded.status().message() << "\n";
      return kExitUsage;
    }
    script = *std::move(loaded);
  }
  // A file given by flag, or found in the runfiles; "" after telling why.
  auto find = [&](const std::string& given, const char* runfile,
                  const char* label, const char* flag) -> std::string {
    if (!given.empty()) {
      if (::access(given.c_str(), R_OK) == 0) return AbsolutePath(given);
      err << "xehil sim-run: " << flag << "=" << given << ": "
          << ::strerror(errno) << "\n";
      return "";
    }
    std::vector<std::string> looked;
    const std::string found = FindRunfile(runfile, &looked);
    if (found.empty()) {
      err << "xehil sim-run: cannot find " << runfile << " (build " << label
          << " or pass " << flag << "=PATH); looked in:\n  "
          << absl::StrJoin(looked, "\n  ") << "\n";
    }
    return AbsolutePath(found);
  };
  const std::string preload =
      find(options.preload, kPreloadRunfile,
           "//sim/preload:libxehil_preload.so", "--preload");
  if (preload.empty()) return kExitSetup;

  std::unique_ptr<SimdDaemon> daemon;
  std::string socket = AbsolutePath(options.socket);
  if (socket.empty()) {
    const std::string simd =
        find(options.simd, kSimdRunfile, "//sim/simd:xehil-simd", "--simd");
    if (simd.empty()) return kExitSetup;
    daemon = SimdDaemon::Start(simd, options.device_profile, options.script,
                               options.verbose, err);
    if (daemon == nullptr) return kExitSetup;
    socket = daemon->socket();
  }
  absl::StatusOr<simd::Client> control =
      simd::Client::Connect(socket, simd::Role::kControl, "xehil sim-run");
  if (!control.ok()) {
    err << "xehil sim-run: " << control.status().message() << "\n";
    return kExitSetup;
  }
  if (script.has_value() && daemon == nullptr) {
    sim::ControlRequest add;
    *add.mutable_add_rules() = *script;
    absl::StatusOr<sim::ControlReply> added = control->Control(add);
    if (!added.ok()) {
      err << "xehil sim-run: adding the script's rules: "
          << added.status().message() << "\n";
      return kExitSetup;
    }
  }
  absl::StatusOr<sim::DeviceStatus> before = Status(*control);
  if (!before.ok()) {
    err << "xehil sim-run: status: " << before.status().message() << "\n";
    return kExitSetup;
  }

  pid_t pid = 0;
  const std::string report = MakeReportFile();
  std::optional<int> status =
      RunProgram(options, preload, socket, report, &pid, err);
  const int code = status.has_value() ? ExitCodeOf(*status) : kExitNotRun;
  if (status.has_value()) {
    err << "xehil sim-run: " << options.command[0] << " " << Describe(*status)
        << "\n";
  }

  // The program's connections close as it exits; wait until the daemon has
  // released its files (every file, on a daemon of our own), then until the
  // rebind worker is idle, so the summary is complete.
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_pid(daemon != nullptr ? 0 : pid);
  wait.mutable_wait_released()->set_timeout_ms(kReleaseTimeoutMs);
  if (absl::StatusOr<sim::ControlReply> waited = control->Control(wait);
      !waited.ok()) {
    err << "xehil sim-run: " << waited.status().message() << "\n";
  }
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  control->Control(idle).status().IgnoreError();
  absl::StatusOr<sim::DeviceStatus> after = Status(*control);
  if (!after.ok()) {
    err << "xehil sim-run: status: " << after.status().message() << "\n";
    PrintListenerHints(report, err);
    return code;
  }
  PrintSimRunSummary(*before, *after,
                     status.has_value() ? static_cast<uint32_t>(pid) : 0, err);
  PrintListenerHints(report, err);
  return code;
}

}  // namespace xehil
