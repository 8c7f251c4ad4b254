// For tests that boot the vxe kernel through `xehil vm-run`: why they cannot
// run on this machine, so they skip with the reason instead of failing.
//
//   if (std::string why = vxe::testing::WhyVmRunCannotBoot(); !why.empty()) {
//     GTEST_SKIP() << why;
//   }
#ifndef XEHIL_VXE_TESTS_VM_RUN_SKIP_H_
#define XEHIL_VXE_TESTS_VM_RUN_SKIP_H_

#include <string>

namespace xehil::vxe::testing {

// "" when QEMU is installed and $XEHIL_VXE_KERNEL names the kernel (tests do
// not see $HOME; scripts/test.sh builds the kernel and passes it), else what
// is missing and how to get it.
std::string WhyVmRunCannotBoot();

}  // namespace xehil::vxe::testing

#endif  // XEHIL_VXE_TESTS_VM_RUN_SKIP_H_
