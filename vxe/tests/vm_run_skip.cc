#include "vxe/tests/vm_run_skip.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace xehil::vxe::testing {

std::string WhyVmRunCannotBoot() {
  if (std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
    return "qemu-system-x86_64 is not installed";
  }
  const char* kernel = std::getenv("XEHIL_VXE_KERNEL");
  if (kernel == nullptr || *kernel == '\0' ||
      ::access((std::string(kernel) + "/vmlinux").c_str(), R_OK) != 0) {
    return "no vxe kernel: run vxe/kernel/build-kernel.sh and pass "
           "--test_env=XEHIL_VXE_KERNEL=<its output> (./scripts/test.sh does)";
  }
  return "";
}

}  // namespace xehil::vxe::testing
