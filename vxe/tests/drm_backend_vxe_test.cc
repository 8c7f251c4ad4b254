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
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "common/testing/child_process.h"
#include "vxe/tests/vm_run_skip.h"

namespace xehil {
namespace {

using process_testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}

// Runs `command` in the guest (with the example's fault script if
// `with_script`) and returns it once it exited; null after a skip.
std::unique_ptr<ChildProcess> RunInVm(const std::vector<std::string>& command,
                                      bool with_script) {
  std::vector<std::string> args = {"vm-run", "--timeout=240"};
  if (with_script) args.push_back(absl::StrCat("--script=", Args()[1]));
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> run =
      ChildProcess::Start(Args()[0], args);
  if (!run.ok()) {
    ADD_FAILURE() << run.status();
    return nullptr;
  }
  EXPECT_EQ((*run)->WaitExit(absl::Seconds(300)), 0)
      << (*run)->StdoutText() << (*run)->StderrText();
  return *std::move(run);
}

void RunGtestInVm(const std::string& binary, bool with_script = true) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  // The guest's /tmp is its own: the inner binary's XML goes there, not to
  // this test's (read-only in the guest) output path.
  std::unique_ptr<ChildProcess> run = RunInVm(
      {binary, "--gtest_output=xml:/tmp/inner.xml"}, with_script);
  ASSERT_NE(run, nullptr);
  EXPECT_THAT(run->StdoutText(), HasSubstr("[  PASSED  ]"));
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
  std::unique_ptr<ChildProcess> run =
      RunInVm({Args()[4], "--gtest_output=xml:/tmp/inner.xml"}, false);
  ASSERT_NE(run, nullptr);
  EXPECT_THAT(run->StdoutText(), HasSubstr("[  PASSED  ]"));
  EXPECT_THAT(run->StdoutText(), Not(HasSubstr("[  SKIPPED ]")))
      << run->StdoutText();
  EXPECT_THAT(run->StdoutText(), Not(HasSubstr("skipped steps[")))
      << run->StdoutText();
}

TEST(OnVxe, XehilRunPassesTheWholeLibraryWithBackendXe) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  std::unique_ptr<ChildProcess> run =
      RunInVm({Args()[0], "run", LibraryDir(), "--backend=xe"}, false);
  ASSERT_NE(run, nullptr);
  const std::string out = run->StdoutText();
  std::smatch summary;
  ASSERT_TRUE(std::regex_search(
      out, summary, std::regex("([0-9]+) scenario runs: ([0-9]+) pass, ")))
      << out << run->StderrText();
  EXPECT_EQ(summary[1], summary[2]) << out;
  EXPECT_GE(std::stoi(summary[1]), 12) << out;
  EXPECT_THAT(out, HasSubstr(" pass, 0 fail, 0 skip, 0 timeout, 0 incomplete"));
  EXPECT_THAT(out, HasSubstr("transient_enomem"));
}

TEST(OnVxe, EpollAndSelectWorkOnANotificationPipe) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> run = ChildProcess::Start(
      Args()[0], {"vm-run", "--timeout=150",
                  absl::StrCat("--script=", Args()[1]), "--", Args()[5]});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->WaitExit(absl::Seconds(200)), 0) << (*run)->StderrText();
  EXPECT_THAT((*run)->StdoutText(), HasSubstr("saw the VM_ERR"));
  EXPECT_THAT((*run)->StdoutText(), HasSubstr("saw the hang-up"));
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
