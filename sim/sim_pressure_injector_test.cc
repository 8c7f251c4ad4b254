#include "sim/sim_pressure_injector.h"

#include <cerrno>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/device/xe_device.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)
using sim::kMiB;
using sim::VmState;

constexpr absl::Duration kLongWait = absl::Seconds(20);

class SimPressure : public SimFileTest {
 protected:
  uint64_t VramPressure() { return device_->Regions()[1].pressure; }
  uint64_t VramUsedByQuery() {
    XeDevice xe(*file_);
    absl::StatusOr<std::vector<MemRegion>> regions = xe.QueryMemRegions();
    EXPECT_TRUE(regions.ok()) << regions.status();
    return regions.ok() ? (*regions)[1].used : 0;
  }

  SimPressureInjector injector_{device_};
};

TEST_F(SimPressure, AcquireTakesRegionMemoryAndReleaseGivesItBack) {
  ASSERT_TRUE(injector_.CheckAvailable().ok());
  EXPECT_EQ(injector_.Name(), "sim");
  ASSERT_EQ(VramUsedByQuery(), 0u);
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 4 * kMiB});
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->bytes(), 4 * kMiB);
  EXPECT_EQ(VramPressure(), 4 * kMiB);
  EXPECT_EQ(VramUsedByQuery(), 4 * kMiB);

  EXPECT_TRUE((*lease)->Release().ok());
  EXPECT_TRUE((*lease)->Release().ok());
  EXPECT_EQ(VramPressure(), 0u);
  EXPECT_EQ(VramUsedByQuery(), 0u);
}

TEST_F(SimPressure, MoreThanTheRegionHasLeftIsRefused) {
  const uint64_t total = device_->Regions()[1].spec.total_bytes;
  absl::StatusOr<std::unique_ptr<PressureLease>> huge =
      injector_.Acquire({1, 4 * total});
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(huge.status().message()),
              ::testing::HasSubstr(absl::StrCat(4 * total, " bytes")));
  EXPECT_EQ(VramPressure(), 0u);

  absl::StatusOr<std::unique_ptr<PressureLease>> half =
      injector_.Acquire({1, total / 2});
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(injector_.Acquire({1, total / 2 + 1}).status().code(),
            absl::StatusCode::kResourceExhausted);
  absl::StatusOr<std::unique_ptr<PressureLease>> rest =
      injector_.Acquire({1, total - total / 2});
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(VramPressure(), total);
}

TEST_F(SimPressure, DestroyingTheLeaseReleases) {
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 4 * kMiB});
  ASSERT_TRUE(lease.ok()) << lease.status();
  lease->reset();
  EXPECT_EQ(VramPressure(), 0u);
}

TEST_F(SimPressure, TtlExpiryReleases) {
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 4 * kMiB, absl::Milliseconds(1)});
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE((*lease)->WaitReleased(kLongWait));
  EXPECT_TRUE((*lease)->expired());
  EXPECT_EQ(VramPressure(), 0u);
}

TEST_F(SimPressure, LeaseOutlivesItsInjector) {
  std::unique_ptr<PressureLease> lease;
  {
    SimPressureInjector injector(device_);
    absl::StatusOr<std::unique_ptr<PressureLease>> acquired =
        injector.Acquire({1, 4 * kMiB, absl::Milliseconds(1)});
    ASSERT_TRUE(acquired.ok()) << acquired.status();
    lease = *std::move(acquired);
  }
  ASSERT_TRUE(lease->WaitReleased(kLongWait));
  EXPECT_EQ(VramPressure(), 0u);
}

TEST_F(SimPressure, RejectsBadSpecsAndUnknownRegions) {
  EXPECT_EQ(injector_.Acquire({1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(injector_.Acquire({1, kMiB, absl::Seconds(-1)}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(injector_.Acquire({7, kMiB}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(VramPressure(), 0u);
}

TEST_F(SimPressure, PressurePausesARestartableVmUntilReleased) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kVram, &vm, &bo), 0);
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 12 * kMiB});
  ASSERT_TRUE(lease.ok()) << lease.status();
  device_->WaitIdle();
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);

  ASSERT_TRUE((*lease)->Release().ok());
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
}

TEST_F(SimPressure, RacingTtlsAndReleasesLeaveNoPressure) {
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<std::unique_ptr<PressureLease>> lease =
        injector_.Acquire({1, kMiB, absl::Microseconds(i % 5)});
    ASSERT_TRUE(lease.ok()) << lease.status();
    if (i % 3 == 0) {
      EXPECT_TRUE((*lease)->Release().ok());
    }
  }
  EXPECT_EQ(VramPressure(), 0u);
}

}  // namespace
}  // namespace xehil
