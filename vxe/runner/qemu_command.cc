#include "vxe/runner/qemu_command.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "vxe/runner/guest_spec.h"

namespace xehil::vxe {
namespace {

// QEMU option values escape a comma by doubling it.
std::string OptionValue(const std::string& value) {
  return absl::StrReplaceAll(value, {{",", ",,"}});
}

}  // namespace

std::string KernelCommandLine(const QemuConfig& config) {
  // lpj: a preset delay-loop value skips its calibration (0.3 s under TCG).
  // 9p's mount source is its tag: the kernel mounts "/dev/root" as a nodev
  // filesystem. cache=loose lets the guest cache the (read-only) host files.
  std::string line = absl::StrCat(
      "console=ttyS0 panic=-1 lpj=400000 root=/dev/root rootfstype=9p "
      "rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro "
      "init=",
      config.init);
  if (!config.extra_kernel_args.empty()) {
    absl::StrAppend(&line, " ", config.extra_kernel_args);
  }
  return line;
}

std::vector<std::string> QemuArgv(const QemuConfig& config) {
  std::vector<std::string> argv = {
      config.qemu,
      "-no-user-config",
      "-nodefaults",
      "-display",
      "none",
      "-no-reboot",
      "-accel",
      config.accel,
      // Without ACPI the kernel finds CPUs in SeaBIOS's MP table, which
      // lists one entry per package: one socket per vCPU, or only one runs.
      "-smp",
      absl::StrCat(config.cpus, ",sockets=", config.cpus, ",cores=1,threads=1"),
      "-m",
      absl::StrCat(config.memory_mb, "M"),
      "-kernel",
      config.kernel,
      "-append",
      KernelCommandLine(config),
      "-device",
      "isa-debug-exit,iobase=0xf4,iosize=0x04",
      "-fsdev",
      // multidevs=remap: host files on different filesystems (/proc, /sys,
      // /tmp, ...) share inode numbers; unmapped, the guest confuses them.
      "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap",
      "-device",
      "virtio-9p-pci,fsdev=root,mount_tag=/dev/root",
      "-fsdev",
      absl::StrCat("local,id=run,path=", OptionValue(config.run_share),
                   ",security_model=none"),
      "-device",
      absl::StrCat("virtio-9p-pci,fsdev=run,mount_tag=", kRunShareTag),
  };
  // KVM on these hosts runs nested; the host CPU model avoids instructions
  // the nested hypervisor emulates badly only if the probe boot passed.
  if (config.accel == "kvm") {
    argv.insert(argv.end(), {"-cpu", "host"});
  }
  argv.insert(argv.end(), {"-chardev",
                           absl::StrCat("file,id=console,path=",
                                        OptionValue(config.console)),
                           "-serial", "chardev:console"});
  return argv;
}

}  // namespace xehil::vxe
