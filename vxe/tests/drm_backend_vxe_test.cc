// The real-device code path on the real kernel: DrmBackend-based gtest
// binaries, unchanged, inside `xehil vm-run` on the vxe kernel, where
// /dev/dri/renderD128 is the vxe driver (watch queues are the kernel's own)
// and xehil-simd serves the device model behind it:
//  - //core/backend:drm_backend_test: libdrm discovery, raw ioctls, kernel
//    notification pipes (it checks success where the device exists);
//  - drm_backend_preload_test_main: DrmBackend + XeDevice + Listener and the
//    VM_RESTART recovery loop, with the example's -ENOMEM script;
//  - //hwtest:library_xe_test: the hardware scenario suite on the "xe"
//    environment, where the guest daemon's control socket
//    ($XEHIL_VXE_CONTROL) gives faults, pressure and the VM observer: every
//    scenario must pass, none may skip;
//  - `xehil run scenarios/ --backend=xe`: the same library through the CLI.
// Skips when QEMU or the vxe kernel is missing (scripts/test.sh builds the
// kernel and passes $XEHIL_VXE_KERNEL).
//
// args: <xehil> <enomem_on_watch.textproto> <drm_backend_test>
//       <drm_backend_preload_test_main> <library_xe_test>
//       <epoll_select_probe>
#include <cstdio>
#include <cstdlib>
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
using ::testing::Not;

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}

using vxe::testing::ExpectGtestPassedEveryCase;
using vxe::testing::RunInVm;
using vxe::testing::VmRun;

// A gtest binary in the guest, with the example's -ENOMEM script.
void RunGtestInVm(const std::string& binary) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  // The guest's /tmp is its own: the inner binary's XML goes there, not to
  // this test's (read-only in the guest) output path.
  ExpectGtestPassedEveryCase(
      RunInVm(Args()[0], {binary, "--gtest_output=xml:/tmp/inner.xml"},
              {absl::StrCat("--script=", Args()[1])}));
}

// The scenario library's directory in this test's runfiles (the guest sees
// the host's files at the same paths).
std::string LibraryDir() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return "scenarios";
  return absl::StrCat(srcdir, "/", workspace, "/scenarios");
}

TEST(OnVxe, DrmBackendTestPassesOnTheRealKernel) { RunGtestInVm(Args()[2]); }

TEST(OnVxe, DrmBackendRecoveryLoopPassesOnTheRealKernel) {
  RunGtestInVm(Args()[3]);
}

// No script: the scenarios inject their own faults through the guest daemon.
TEST(OnVxe, HardwareScenarioSuitePassesEveryScenarioOnTheRealKernel) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  const VmRun run =
      RunInVm(Args()[0], {Args()[4], "--gtest_output=xml:/tmp/inner.xml"}, {});
  ExpectGtestPassedEveryCase(run);
  EXPECT_THAT(run.out, Not(HasSubstr("skipped steps["))) << run.out;
}

TEST(OnVxe, XehilRunPassesTheWholeLibraryWithBackendXe) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  const VmRun run =
      RunInVm(Args()[0], {Args()[0], "run", LibraryDir(), "--backend=xe"}, {});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  const std::string& out = run.out;
  // The summary line: "13 scenario runs: 13 pass, 0 fail, ...".
  const size_t line = out.rfind('\n', out.find(" scenario runs: "));
  int runs = 0, passed = 0;
  ASSERT_EQ(
      std::sscanf(out.c_str() + (line == std::string::npos ? 0 : line + 1),
                  "%d scenario runs: %d pass,", &runs, &passed),
      2)
      << out << run.err;
  EXPECT_EQ(passed, runs) << out;
  EXPECT_GE(runs, 12) << out;
  EXPECT_THAT(out, HasSubstr(" pass, 0 fail, 0 skip, 0 timeout, 0 incomplete"));
  EXPECT_THAT(out, HasSubstr("transient_enomem"));
}

TEST(OnVxe, EpollAndSelectWorkOnANotificationPipe) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  const VmRun run =
      RunInVm(Args()[0], {Args()[5]}, {absl::StrCat("--script=", Args()[1])});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("saw the VM_ERR"));
  EXPECT_THAT(run.out, HasSubstr("saw the hang-up"));
}

}  // namespace
}  // namespace xehil

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) xehil::Args().push_back(argv[i]);
  if (xehil::Args().size() != 6) {
    std::fprintf(stderr,
                 "usage: %s XEHIL SCRIPT DRM_BACKEND_TEST MAIN LIBRARY_TEST "
                 "EPOLL_PROBE\n",
                 argv[0]);
    return 2;
  }
  return RUN_ALL_TESTS();
}
