// `xehil vm-run`: runs an unmodified program inside a QEMU guest on the vxe
// kernel (a real Linux 6.12 with CONFIG_WATCH_QUEUE), streaming its output
// and exiting with its status.
//
//   xehil vm-run --timeout=60 -- ./my_test --gtest_brief
//
// The kernel comes from vxe/kernel/build-kernel.sh's per-machine cache
// (--kernel or $XEHIL_VXE_KERNEL override it); the guest init, vxe-init,
// from this binary's runfiles. The program gets this process's environment
// with TMPDIR and TEST_TMPDIR (when set) pointing at the guest's writable
// /tmp, and XEHIL_VM=1.
//
// By default the guest has the simulated xe GPU: the vxe driver (vxe.ko,
// built against the cached kernel by vxe/driver/build-module.sh) serves
// /dev/dri/renderD128 on the kernel's own watch_queue, and xehil-simd
// --vxe-control serves the device model behind it with --device-profile and
// --script. --guest_module and --guest_daemon replace that with a driver and
// userspace half of one's own (vxe/runner/vm_runner.h); --no-device runs
// the bare kernel.
#ifndef XEHIL_TOOLS_XEHIL_VM_RUN_COMMAND_H_
#define XEHIL_TOOLS_XEHIL_VM_RUN_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace xehil {

struct VmRunCommandOptions {
  std::vector<std::string> command;  // PROGRAM ARGS...
  std::string kernel;                // "": find the cached kernel
  std::string qemu;                  // "": qemu-system-x86_64 from PATH
  std::string accel = "tcg";         // tcg, kvm or auto (accel_probe.h)
  int cpus = 2;
  int memory_mb = 1024;
  double timeout_s = 120;
  std::vector<std::string> guest_modules;
  std::vector<std::string> guest_daemon;  // argv; empty: none
  // The simulated xe device (used when no guest module/daemon is given).
  bool device = true;
  std::string device_profile;  // "": xehil-simd's default
  std::string script;          // "": no fault rules
  bool verbose = false;  // kernel console, daemon output and timings on err
};

// Exit codes: the program's (128 + signal if killed), 127 if it could not be
// executed in the guest, 124 if the guest was killed at the timeout, 128 +
// signal if vm-run got SIGTERM, SIGHUP or SIGINT (the guest is killed), 1 if
// the VM could not run it (missing QEMU or kernel, guest failure).
int RunVmRun(const VmRunCommandOptions& options, std::ostream& err);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_VM_RUN_COMMAND_H_
