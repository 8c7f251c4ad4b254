#include "tools/xehil/vm_run_command.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "tools/xehil/sim_run_process.h"
#include "vxe/runner/accel_probe.h"
#include "vxe/runner/guest_spec.h"
#include "vxe/runner/kernel_locator.h"
#include "vxe/runner/vm_runner.h"

namespace xehil {
namespace {

constexpr char kInitRunfile[] = "vxe/runner/vxe-init";
constexpr char kBuildScriptRunfile[] = "vxe/kernel/build-kernel.sh";
constexpr char kBuildModuleRunfile[] = "vxe/driver/build-module.sh";
constexpr char kSimdRunfile[] = "sim/simd/xehil-simd";
constexpr int kExitSetup = 1;
constexpr int kExitTimeout = 124;

// SIGTERM, SIGHUP or SIGINT aimed at vm-run: the guest must not outlive it.
int cancel_write = -1;
std::atomic<int> cancel_signal{0};

void OnSignal(int signal) {
  cancel_signal.store(signal);
  const char byte = 1;
  [[maybe_unused]] ssize_t n = ::write(cancel_write, &byte, 1);
}

// Installs OnSignal; returns the read end of its pipe, or -1.
int InstallCancelHandlers() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  cancel_write = fds[1];
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGTERM, SIGHUP, SIGINT}) {
    ::sigaction(signal, &action, nullptr);
  }
  return fds[0];
}

// This process's environment for the guest: temporary directories moved to
// the guest's own writable /tmp (the host's paths are read-only there, and
// its /tmp hidden), plus XEHIL_VM=1.
std::vector<std::string> GuestEnvironment() {
  // Files a Bazel test runner expects its test to write: they belong to the
  // test that runs vm-run, and the guest cannot write the host there (gtest
  // even crashes when it cannot create the premature-exit file).
  static constexpr const char* kHostOutputs[] = {
      "TEST_PREMATURE_EXIT_FILE=",         "XML_OUTPUT_FILE=",
      "TEST_SHARD_STATUS_FILE=",           "TEST_WARNINGS_OUTPUT_FILE=",
      "TEST_INFRASTRUCTURE_FAILURE_FILE=", "TEST_UNDECLARED_OUTPUTS_DIR=",
      "TEST_UNUSED_RUNFILES_LOG_FILE="};
  std::vector<std::string> env;
  for (std::string& var : CurrentEnvironment()) {
    if (var.rfind("TMPDIR=", 0) == 0 || var.rfind("TEST_TMPDIR=", 0) == 0) {
      var = var.substr(0, var.find('=') + 1) + "/tmp";
    }
    bool host_output = false;
    for (const char* name : kHostOutputs)
      host_output |= var.rfind(name, 0) == 0;
    if (!host_output) env.push_back(std::move(var));
  }
  env.push_back("XEHIL_VM=1");
  return env;
}

// Whether `qemu` (or qemu-system-x86_64 on PATH, for "") can be executed.
bool QemuFound(const std::string& qemu) {
  if (!qemu.empty()) return ::access(qemu.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/qemu-system-x86_64");
    if (::access(candidate.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// vxe.ko built (or found in the per-machine cache) for `kernel_dir`; "" with
// `err` told why.
std::string VxeModule(const std::string& kernel_dir, std::ostream& err) {
  std::vector<std::string> looked;
  const std::string script = FindRunfile(kBuildModuleRunfile, &looked);
  if (script.empty()) {
    err << "xehil vm-run: cannot find " << kBuildModuleRunfile
        << " (build //tools/xehil)\n";
    return "";
  }
  const std::string command =
      absl::StrCat("XEHIL_VXE_KERNEL='", kernel_dir, "' '", script, "'");
  FILE* out = ::popen(command.c_str(), "r");
  if (out == nullptr) {
    err << "xehil vm-run: cannot run " << script << "\n";
    return "";
  }
  std::string path;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), out) != nullptr) path += buffer;
  const int status = ::pclose(out);
  while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) {
    path.pop_back();
  }
  if (status != 0 || path.empty()) {
    err << "xehil vm-run: building the vxe module failed (see above)\n";
    return "";
  }
  return path;
}

}  // namespace

int RunVmRun(const VmRunCommandOptions& options, std::ostream& err) {
  std::vector<std::string> looked;
  absl::StatusOr<std::string> kernel = vxe::FindVxeKernel(
      options.kernel, FindRunfile(kBuildScriptRunfile, &looked));
  if (!kernel.ok()) {
    err << "xehil vm-run: " << kernel.status().message() << "\n";
    return kExitSetup;
  }
  vxe::VmRunOptions run;
  run.argv = options.command;
  run.env = GuestEnvironment();
  run.kernel_dir = *kernel;
  run.init = FindRunfile(kInitRunfile, &looked);
  if (!options.qemu.empty()) run.qemu = options.qemu;
  run.accel = options.accel;
  run.cpus = options.cpus;
  run.memory_mb = options.memory_mb;
  run.timeout_s = options.timeout_s;
  for (const std::string& module : options.guest_modules) {
    run.guest_modules.push_back(AbsolutePath(module));
  }
  run.guest_daemon = options.guest_daemon;
  // Without QEMU the run fails anyway, naming it: no module to build first.
  if (options.device && run.guest_modules.empty() && run.guest_daemon.empty() &&
      QemuFound(options.qemu)) {
    const std::string module = VxeModule(*kernel, err);
    if (module.empty()) return kExitSetup;
    const std::string simd = FindRunfile(kSimdRunfile, &looked);
    if (simd.empty()) {
      err << "xehil vm-run: cannot find " << kSimdRunfile
          << " (build //sim/simd:xehil-simd)\n";
      return kExitSetup;
    }
    run.guest_modules.push_back(module);
    // The program reaches the daemon's control channel (faults, status)
    // through $XEHIL_VXE_CONTROL, naming its files by drm-client-id.
    run.guest_daemon = {AbsolutePath(simd), "--vxe-control=/dev/vxe_ctl",
                        absl::StrCat("--socket=", vxe::kGuestControlSocket)};
    run.env.push_back(
        absl::StrCat(vxe::kControlSocketEnv, "=", vxe::kGuestControlSocket));
    if (!options.device_profile.empty()) {
      run.guest_daemon.push_back(
          absl::StrCat("--device-profile=", options.device_profile));
    }
    if (!options.script.empty()) {
      run.guest_daemon.push_back(
          absl::StrCat("--script=", AbsolutePath(options.script)));
    }
  }
  if (options.verbose) {
    run.console_fd = STDERR_FILENO;
    run.daemon_output_fd = STDERR_FILENO;
  }
  if (options.accel == "auto") {
    std::string why;
    run.accel = vxe::ChooseAccel(run, vxe::DefaultAccelCacheDir(), &why);
    if (options.verbose) err << "xehil vm-run: accelerator: " << why << "\n";
  }
  run.cancel_fd = InstallCancelHandlers();
  // Our own buffered output must not land after the program's.
  err.flush();
  std::fflush(nullptr);
  absl::StatusOr<vxe::VmRunResult> result = vxe::RunInVm(run);
  if (!result.ok()) {
    err << "xehil vm-run: " << result.status().message() << "\n";
    if (result.status().code() == absl::StatusCode::kCancelled) {
      return 128 + cancel_signal.load();
    }
    return result.status().code() == absl::StatusCode::kDeadlineExceeded
               ? kExitTimeout
               : kExitSetup;
  }
  if (!result->daemon_output.empty() && result->exit_code != 0) {
    err << "xehil vm-run: guest daemon output:\n" << result->daemon_output;
  }
  if (result->guest.exec_errno != 0) {
    err << "xehil vm-run: in the guest: " << result->guest.error << "\n";
  }
  if (result->guest.daemon_killed) {
    err << "xehil vm-run: the guest daemon ignored SIGTERM and was killed\n";
  }
  if (options.verbose) {
    err << absl::StrFormat(
        "xehil vm-run: %s: %.0f ms wall (%s); guest: program started %.0f "
        "ms after boot, ran %.0f ms\n",
        options.command[0], result->wall_ms, run.accel,
        result->guest.boot_to_program_ms, result->guest.program_ms);
  }
  return result->exit_code;
}

}  // namespace xehil
