// The backend conformance suite on the real kernel: drm_conformance_main
// (DrmBackend over /dev/dri/renderD128) inside `xehil vm-run`, where the
// node is the vxe driver (watch queues, notification pipes and removal
// records are the kernel's own) and xehil-simd serves the device model.
// Faults and the VM observer come from the guest daemon's control socket
// ($XEHIL_VXE_CONTROL, set by vm-run), files named by their DRM client id,
// so no case may skip. Skips when QEMU or the vxe kernel is missing.
//
// args: <xehil> <drm_conformance_main>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vxe/tests/vm_run_gtest.h"
#include "vxe/tests/vm_run_skip.h"

namespace xehil {
namespace {

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}

TEST(OnVxe, DrmBackendPassesTheBackendConformanceSuite) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  // The guest's /tmp is its own: the inner XML goes there.
  const vxe::testing::VmRun run = vxe::testing::RunInVm(
      Args()[0], {Args()[1], "--gtest_output=xml:/tmp/inner.xml"}, {});
  vxe::testing::ExpectGtestPassedEveryCase(run);
  std::printf("%s", run.out.c_str());
}

}  // namespace
}  // namespace xehil

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) xehil::Args().push_back(argv[i]);
  if (xehil::Args().size() != 2) {
    std::fprintf(stderr, "usage: %s XEHIL DRM_CONFORMANCE_MAIN\n", argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
