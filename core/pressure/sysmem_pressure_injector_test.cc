#include "core/pressure/sysmem_pressure_injector.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;

// VmLck of this process, in bytes.
uint64_t VmLck() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t kib = 0;
    if (f.size() == 3 && f[0] == "VmLck:" && absl::SimpleAtoi(f[1], &kib)) {
      return kib * 1024;
    }
  }
  ADD_FAILURE() << "no VmLck in /proc/self/status";
  return 0;
}

std::string TmpPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
}

void WriteMeminfo(const std::string& path, uint64_t available_bytes) {
  std::ofstream out(path, std::ios::trunc);
  out << "MemTotal:       99999999 kB\n"
      << "MemFree:          123456 kB\n"
      << "MemAvailable:   " << available_bytes / 1024 << " kB\n"
      << "Buffers:            1234 kB\n";
}

// Locking memory is an environment capability: skip, never fail, without it.
bool LockingRefused(const absl::Status& status) {
  return absl::StrContains(status.message(), "mlock");
}

SysmemPressureInjector::Options FakeMeminfo(const std::string& name,
                                            uint64_t available) {
  SysmemPressureInjector::Options options;
  options.meminfo_path = TmpPath(name);
  WriteMeminfo(options.meminfo_path, available);
  options.floor_bytes = 64 * kMiB;
  options.chunk_bytes = 4 * kMiB;
  return options;
}

TEST(SysmemPressure, LocksTheMemoryAndGivesItAllBack) {
  SysmemPressureInjector::Options options;
  options.floor_bytes = 256 * kMiB;
  options.chunk_bytes = 16 * kMiB;
  SysmemPressureInjector injector(options);
  ASSERT_TRUE(injector.CheckAvailable().ok());
  const uint64_t before = VmLck();
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector.Acquire({0, 64 * kMiB});
  if (LockingRefused(lease.status()) ||
      absl::StrContains(lease.status().message(), "below the floor")) {
    GTEST_SKIP() << "this environment cannot lock 64 MiB: " << lease.status();
  }
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->bytes(), 64 * kMiB);
  EXPECT_GE(VmLck(), before + 64 * kMiB);
  EXPECT_EQ(injector.held_bytes(), 64 * kMiB);

  EXPECT_TRUE((*lease)->Release().ok());
  EXPECT_EQ(VmLck(), before);
  EXPECT_EQ(injector.held_bytes(), 0u);
}

TEST(SysmemPressure, RefusesToGoBelowTheFloorAndTakesNothing) {
  SysmemPressureInjector injector(FakeMeminfo("floor", 100 * kMiB));
  const uint64_t before = VmLck();
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector.Acquire({0, 64 * kMiB});
  ASSERT_EQ(lease.status().code(), absl::StatusCode::kResourceExhausted)
      << lease.status();
  EXPECT_THAT(lease.status().message(),
              HasSubstr(absl::StrCat(100 * kMiB, " bytes")));  // MemAvailable
  EXPECT_THAT(lease.status().message(),
              HasSubstr(absl::StrCat(64 * kMiB, " bytes")));  // the floor
  EXPECT_THAT(lease.status().message(), HasSubstr("floor"));
  EXPECT_EQ(VmLck(), before);
  EXPECT_EQ(injector.held_bytes(), 0u);
}

TEST(SysmemPressure, StopsAndGivesBackWhenMemAvailableShrinksMidway) {
  SysmemPressureInjector::Options options = FakeMeminfo("shrink", 8 * kGiB);
  int chunks = 0;
  options.after_chunk_for_testing = [&](uint64_t taken) {
    ++chunks;
    EXPECT_EQ(taken, 4 * kMiB);
    // Someone else took memory: 70 MiB left cannot hold 12 more above 64.
    WriteMeminfo(options.meminfo_path, 70 * kMiB);
  };
  SysmemPressureInjector injector(options);
  const uint64_t before = VmLck();
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector.Acquire({0, 16 * kMiB});
  if (LockingRefused(lease.status())) {
    GTEST_SKIP() << "this environment cannot lock memory: " << lease.status();
  }
  ASSERT_EQ(lease.status().code(), absl::StatusCode::kResourceExhausted)
      << lease.status();
  EXPECT_THAT(lease.status().message(),
              HasSubstr(absl::StrCat("after taking ", 4 * kMiB, " bytes")));
  EXPECT_EQ(chunks, 1);
  EXPECT_EQ(VmLck(), before);
  EXPECT_EQ(injector.held_bytes(), 0u);
}

TEST(SysmemPressure, CapsTheTotalHeldByAllLeases) {
  SysmemPressureInjector::Options options = FakeMeminfo("cap", 8 * kGiB);
  options.max_bytes = 6 * kMiB;
  SysmemPressureInjector injector(options);
  absl::StatusOr<std::unique_ptr<PressureLease>> first =
      injector.Acquire({0, 4 * kMiB});
  if (LockingRefused(first.status())) {
    GTEST_SKIP() << "this environment cannot lock memory: " << first.status();
  }
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<PressureLease>> second =
      injector.Acquire({0, 4 * kMiB});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(second.status().message(), HasSubstr("cap"));
  first->reset();
  EXPECT_EQ(injector.held_bytes(), 0u);
  EXPECT_TRUE(injector.Acquire({0, 4 * kMiB}).ok());
}

TEST(SysmemPressure, TtlExpiryUnlocks) {
  SysmemPressureInjector injector(FakeMeminfo("ttl", 8 * kGiB));
  const uint64_t before = VmLck();
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector.Acquire({0, 4 * kMiB, absl::Milliseconds(1)});
  if (LockingRefused(lease.status())) {
    GTEST_SKIP() << "this environment cannot lock memory: " << lease.status();
  }
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE((*lease)->WaitReleased(absl::Seconds(20)));
  EXPECT_TRUE((*lease)->expired());
  EXPECT_EQ(VmLck(), before);
  EXPECT_EQ(injector.held_bytes(), 0u);
}

TEST(SysmemPressure, RejectsZeroBytes) {
  SysmemPressureInjector injector(FakeMeminfo("zero", 8 * kGiB));
  EXPECT_EQ(injector.Acquire({0, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SysmemPressure, WithoutMemAvailableItIsUnavailable) {
  SysmemPressureInjector::Options missing;
  missing.meminfo_path = TmpPath("does-not-exist");
  SysmemPressureInjector no_file(missing);
  EXPECT_EQ(no_file.CheckAvailable().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(no_file.Acquire({0, kMiB}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  SysmemPressureInjector::Options old_kernel;
  old_kernel.meminfo_path = TmpPath("old-meminfo");
  std::ofstream(old_kernel.meminfo_path) << "MemTotal: 1000 kB\n";
  SysmemPressureInjector no_field(old_kernel);
  EXPECT_THAT(no_field.CheckAvailable().message(), HasSubstr("MemAvailable"));
  EXPECT_EQ(no_field.CheckAvailable().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(SysmemPressure, ReadsMemAvailableInBytes) {
  const std::string path = TmpPath("read");
  WriteMeminfo(path, 100 * kMiB);
  absl::StatusOr<uint64_t> available = ReadMemAvailable(path);
  ASSERT_TRUE(available.ok()) << available.status();
  EXPECT_EQ(*available, 100 * kMiB);
}

}  // namespace
}  // namespace xehil
