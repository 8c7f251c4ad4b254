// The QEMU command line of a vm-run guest: the vxe kernel booted directly
// (PVH) from its vmlinux, the host's root filesystem as the guest's root over
// virtio-9p (read-only), a second 9p share for the run directory
// (read-write, mounted at kGuestRunDir; the program's output comes back
// through it), one serial port for the kernel console written to a file or
// FIFO, isa-debug-exit for the exit status, nothing else (-nodefaults).
//
//   QemuConfig config;
//   config.kernel = dir + "/vmlinux";
//   config.init = "/path/to/vxe-init";  // same path on host and guest
//   ...
//   std::vector<std::string> argv = QemuArgv(config);
#ifndef XEHIL_VXE_RUNNER_QEMU_COMMAND_H_
#define XEHIL_VXE_RUNNER_QEMU_COMMAND_H_

#include <string>
#include <vector>

namespace xehil::vxe {

struct QemuConfig {
  std::string qemu = "qemu-system-x86_64";
  std::string kernel;         // vmlinux
  std::string init;           // the guest init, a host path
  std::string run_share;      // host directory shared read-write
  std::string accel = "tcg";  // tcg or kvm
  int cpus = 2;
  int memory_mb = 1024;
  std::string console;            // where the serial console's bytes go
  std::string extra_kernel_args;  // appended to the kernel command line
};

// The kernel command line (root, init, console; no "quiet": the console is
// kept apart from the program's output and shown when a run fails).
std::string KernelCommandLine(const QemuConfig& config);

// argv for QEMU, argv[0] = config.qemu.
std::vector<std::string> QemuArgv(const QemuConfig& config);

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_QEMU_COMMAND_H_
