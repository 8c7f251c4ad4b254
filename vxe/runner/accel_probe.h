// Chooses QEMU's accelerator for vm-run's --accel=auto: KVM only when
// /dev/kvm is usable and a probe boot under KVM (the vxe kernel running
// /bin/true) succeeds, else TCG. Nested KVM on CI hosts often fails in the
// guest (an internal error on cmpxchg16b, xrstor, BMI2: design/vxe.md), which
// only a real boot shows. The answer is cached per machine, kernel and QEMU
// in `cache_dir` (e.g. ~/.cache/xehil/vxe-accel), so the probe runs once.
//
//   VmRunOptions probe = options;  // kernel_dir, init, qemu set
//   options.accel = ChooseAccel(probe, CacheDirOrEmpty(), &why);
#ifndef XEHIL_VXE_RUNNER_ACCEL_PROBE_H_
#define XEHIL_VXE_RUNNER_ACCEL_PROBE_H_

#include <string>

#include "vxe/runner/vm_runner.h"

namespace xehil::vxe {

// "kvm" or "tcg". `base` supplies the kernel, init and QEMU for the probe;
// `cache_dir` "" disables the cache. `why` gets a one-line reason.
std::string ChooseAccel(const VmRunOptions& base, const std::string& cache_dir,
                        std::string* why);

// The cache file name for `base`'s kernel and QEMU on this CPU and host
// kernel.
std::string AccelProbeKey(const VmRunOptions& base);

// ${XDG_CACHE_HOME:-$HOME/.cache}/xehil/vxe-accel, or "" without either.
std::string DefaultAccelCacheDir();

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_ACCEL_PROBE_H_
