// Finds the built vxe kernel (vxe/kernel/build-kernel.sh's cache directory,
// holding vmlinux and the built tree) without building it.
//
//   absl::StatusOr<std::string> dir = FindVxeKernel("", script_path);
//   if (!dir.ok()) { std::cerr << dir.status().message(); return 1; }
//
// Order: `explicit_dir` if not empty, else $XEHIL_VXE_KERNEL, else the
// directory `build_script --check` prints (it computes the cache key and
// answers at once; exit status 3 means not built). NOT_FOUND says how to
// build it.
#ifndef XEHIL_VXE_RUNNER_KERNEL_LOCATOR_H_
#define XEHIL_VXE_RUNNER_KERNEL_LOCATOR_H_

#include <string>

#include "absl/status/statusor.h"

namespace xehil::vxe {

inline constexpr char kKernelDirEnv[] = "XEHIL_VXE_KERNEL";
inline constexpr char kBuildHint[] =
    "build it once per machine with vxe/kernel/build-kernel.sh (about 5 "
    "minutes of 2 cores; ./scripts/test.sh does it)";

absl::StatusOr<std::string> FindVxeKernel(const std::string& explicit_dir,
                                          const std::string& build_script);

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_KERNEL_LOCATOR_H_
