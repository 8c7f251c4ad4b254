#include "vxe/runner/accel_probe.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::vxe {
namespace {

using ::testing::HasSubstr;

bool KvmUsable() {
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

VmRunOptions Base() {
  VmRunOptions base;
  base.kernel_dir = "/nonexistent/kernel";  // a probe boot would fail
  base.init = "/nonexistent/vxe-init";
  return base;
}

TEST(AccelProbe, KeyDependsOnTheKernel) {
  VmRunOptions other = Base();
  other.kernel_dir = "/other/kernel";
  EXPECT_EQ(AccelProbeKey(Base()), AccelProbeKey(Base()));
  EXPECT_NE(AccelProbeKey(Base()), AccelProbeKey(other));
}

TEST(AccelProbe, CachedAnswerIsUsedWithoutABoot) {
  if (!KvmUsable()) GTEST_SKIP() << "/dev/kvm is not usable here";
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/accel";
  ASSERT_EQ(::system(("mkdir -p " + dir).c_str()), 0);
  std::ofstream(dir + "/" + AccelProbeKey(Base())) << "kvm";
  std::string why;
  EXPECT_EQ(ChooseAccel(Base(), dir, &why), "kvm");
  EXPECT_THAT(why, HasSubstr("cached in " + dir));
}

TEST(AccelProbe, ProbeThatCannotStartMeansTcgUncached) {
  if (!KvmUsable()) GTEST_SKIP() << "/dev/kvm is not usable here";
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/fresh";
  std::string why;
  // No kernel at Base()'s path: the probe cannot boot, which says nothing
  // about KVM.
  EXPECT_EQ(ChooseAccel(Base(), dir, &why), "tcg");
  EXPECT_THAT(why, HasSubstr("probe boot under KVM failed (NOT_FOUND)"));
  EXPECT_NE(::access((dir + "/" + AccelProbeKey(Base())).c_str(), F_OK), 0);
}

TEST(AccelProbe, WithoutKvmItIsTcg) {
  if (KvmUsable()) GTEST_SKIP() << "/dev/kvm is usable here";
  std::string why;
  EXPECT_EQ(ChooseAccel(Base(), "", &why), "tcg");
  EXPECT_EQ(why, "/dev/kvm is not usable: TCG");
}

}  // namespace
}  // namespace xehil::vxe
