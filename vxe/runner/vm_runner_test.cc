// RunInVm's checks before it boots anything (the boots themselves are
// //tools/xehil:vm_run_test), and its helpers.
#include "vxe/runner/vm_runner.h"

#include <stdlib.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::vxe {
namespace {

using ::testing::HasSubstr;

std::string TestTmp() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(LastLines, KeepsTheLastLinesWithTheirNewlines) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), "b\nc\n");
  EXPECT_EQ(LastLines("a\nb\nc", 2), "b\nc");
  EXPECT_EQ(LastLines("a\nb\n", 5), "a\nb\n");
  EXPECT_EQ(LastLines("", 3), "");
}

TEST(FindExecutable, SearchesPathOnlyForBareNames) {
  EXPECT_EQ(FindExecutable("/bin/sh"), "/bin/sh");
  EXPECT_EQ(FindExecutable("/nonexistent/sh"), "");
  EXPECT_THAT(FindExecutable("sh"), testing::EndsWith("/sh"));
  EXPECT_EQ(FindExecutable("no-such-program-xehil"), "");
}

TEST(RunInVm, MissingQemuIsNotFoundNamingThePackage) {
  VmRunOptions options;
  options.argv = {"/bin/true"};
  options.qemu = "/nonexistent/qemu-system-x86_64";
  absl::StatusOr<VmRunResult> result = RunInVm(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("install qemu-system-x86"));
}

TEST(RunInVm, MissingKernelOrInitIsNotFoundWithTheFix) {
  VmRunOptions options;
  options.argv = {"/bin/true"};
  options.qemu = "/bin/true";  // found; never started
  options.kernel_dir = "/nonexistent";
  absl::StatusOr<VmRunResult> result = RunInVm(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(),
              HasSubstr("no vxe kernel at /nonexistent/vmlinux: build it with "
                        "vxe/kernel/build-kernel.sh"));
  options.kernel_dir = TestTmp();
  std::ofstream(options.kernel_dir + "/vmlinux") << "x";
  options.init = "/nonexistent/vxe-init";
  result = RunInVm(options);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("guest init"));
}

}  // namespace
}  // namespace xehil::vxe
