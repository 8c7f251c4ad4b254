// vxe_control_guest_test inside `xehil vm-run` on the vxe kernel: the guest
// daemon's control socket ($XEHIL_VXE_CONTROL), files named by their DRM
// client id, faults posted by the real kernel on a real notification pipe.
// Skips when QEMU or the vxe kernel is missing.
//
// args: <xehil> <vxe_control_guest_test>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vxe/tests/vm_run_gtest.h"
#include "vxe/tests/vm_run_skip.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}

TEST(OnVxe, ControlSocketInjectsFaultsOnFilesNamedByClientId) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  // No --script: the test injects its own fault, nothing else may fire.
  const vxe::testing::VmRun run = vxe::testing::RunInVm(
      Args()[0], {Args()[1], "--gtest_output=xml:/tmp/inner.xml"}, {});
  vxe::testing::ExpectGtestPassedEveryCase(run);
  EXPECT_THAT(run.out, HasSubstr("[  PASSED  ] 2 tests"));
}

}  // namespace
}  // namespace xehil

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) xehil::Args().push_back(argv[i]);
  if (xehil::Args().size() != 2) {
    std::fprintf(stderr, "usage: %s XEHIL GUEST_TEST\n", argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
