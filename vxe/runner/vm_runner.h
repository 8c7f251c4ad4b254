// Runs an unmodified host program inside a QEMU guest on the vxe kernel.
//
//   VmRunOptions options;
//   options.argv = {"/bin/echo", "hello"};
//   options.kernel_dir = *FindVxeKernel(...);   // holds vmlinux
//   options.init = "/path/to/vxe-init";         // //vxe/runner:vxe-init
//   absl::StatusOr<VmRunResult> result = RunInVm(options);
//   if (result.ok()) return result->exit_code;  // the program's
//
// The guest's root is the host's root filesystem (virtio-9p, read-only),
// with its own tmpfs on /tmp, /run and /dev/shm and devtmpfs on /dev; the
// program runs as root in the same working directory with the given
// environment, stdin from /dev/null. Its stdout and stderr arrive on
// `stdout_fd` / `stderr_fd` byte for byte as it writes them (through files in
// the run directory share, which the host reads as they grow); the kernel
// console is kept apart on the serial port (`console_fd`, and its tail in the
// result and in error messages).
//
// Guest hooks, for a kernel driver and its userspace half (e.g. the vxe
// module and xehil-simd in daemon mode):
// - `guest_modules`: host paths loaded with finit_module(2), in order, before
//   anything runs (copied into the run directory first, so they may live in
//   the host's /tmp); a failure ends the run with the errno. A missing file
//   is NOT_FOUND before the boot.
// - `guest_daemon`: argv of a daemon started after the modules, before the
//   program, in the same directory and environment. It is ready when it
//   prints the line "ready" on stdout (within `daemon_ready_timeout_ms`);
//   the program then runs; afterwards the daemon gets SIGTERM (SIGKILL after
//   `daemon_stop_timeout_ms`). Everything else it prints goes to
//   `daemon_output_fd`, or into VmRunResult::daemon_output when that is -1.
//
// QEMU always runs under timeout(1) as well as the in-process deadline
// (`timeout_s`), so a hung guest cannot outlive the run.
#ifndef XEHIL_VXE_RUNNER_VM_RUNNER_H_
#define XEHIL_VXE_RUNNER_VM_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "vxe/runner/guest_spec.h"

namespace xehil::vxe {

struct VmRunOptions {
  std::vector<std::string> argv;  // PROGRAM ARGS; PROGRAM searched in PATH
  std::vector<std::string> env;   // NAME=VALUE
  std::string cwd;                // "": this process's working directory
  std::string kernel_dir;         // holds vmlinux (build-kernel.sh's output)
  std::string init;               // the vxe-init binary
  std::string qemu = "qemu-system-x86_64";  // searched in PATH
  std::string accel = "tcg";                // tcg or kvm
  int cpus = 2;
  int memory_mb = 1024;
  double timeout_s = 120;
  std::vector<std::string> guest_modules;
  std::vector<std::string> guest_daemon;
  int daemon_ready_timeout_ms = 30000;
  int daemon_stop_timeout_ms = 10000;
  int stdout_fd = 1;
  int stderr_fd = 2;
  int daemon_output_fd = -1;  // -1: collected into daemon_output
  int console_fd = -1;        // -1: only the tail is kept
  // When this descriptor becomes readable (e.g. a signal handler's self
  // pipe), the guest is killed and RunInVm returns CANCELLED. -1: none.
  int cancel_fd = -1;
  std::string extra_kernel_args;
};

struct VmRunResult {
  // The program's exit code, 128 + signal if a signal ended it, 127 if it
  // could not be executed (guest.exec_errno says why).
  int exit_code = 0;
  GuestStatus guest;
  std::string console_tail;   // the kernel console's last lines
  std::string daemon_output;  // when daemon_output_fd was -1
  double wall_ms = 0;         // QEMU start to exit, host clock
};

// NOT_FOUND when QEMU, the kernel or the init is missing; DEADLINE_EXCEEDED
// when the guest was killed at the timeout; CANCELLED when `cancel_fd` asked;
// INTERNAL when the guest failed before the program ran (its console tail is in
// the message).
absl::StatusOr<VmRunResult> RunInVm(const VmRunOptions& options);

// The last `lines` lines of `text`.
std::string LastLines(const std::string& text, int lines);

// `name` if it contains a slash, else its path in $PATH; "" if not found.
std::string FindExecutable(const std::string& name);

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_VM_RUNNER_H_
