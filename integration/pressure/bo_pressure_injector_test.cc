#include "core/pressure/bo_pressure_injector.h"

#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
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
using ::testing::HasSubstr;

BoPressureInjector::FileFactory FilesOn(std::shared_ptr<sim::Device> device) {
  return [device]() -> BoPressureInjector::OpenResult {
    return std::unique_ptr<KernelBackend>(device->Open());
  };
}

BoPressureInjector::Options FourMiBChunks() {
  BoPressureInjector::Options options;
  options.chunk_bytes = 4 * kMiB;
  return options;
}

// file_ (from SimFileTest) is the application; the injector opens its own.
class BoPressure : public SimFileTest {
 protected:
  uint64_t VramUsed() { return device_->Regions()[1].used; }

  BoPressureInjector injector_{FilesOn(device_), FourMiBChunks()};
};

TEST_F(BoPressure, EvictsAnotherFilesRestartableVmUntilReleased) {
  ASSERT_TRUE(injector_.CheckAvailable().ok());
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kVram, &vm, &bo), 0);
  // 16 MiB of VRAM: the third 4 MiB BO only fits by evicting the LR VM's BO,
  // whose rebind then finds no room.
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 12 * kMiB});
  ASSERT_TRUE(lease.ok()) << lease.status();
  device_->WaitIdle();
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_FALSE(device_->GetBo(file_->file_id(), bo)->resident.has_value());
  EXPECT_EQ(VramUsed(), 12 * kMiB) << "only the hog's BOs are resident";

  ASSERT_TRUE((*lease)->Release().ok());
  EXPECT_EQ(VramUsed(), 0u);
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->GetBo(file_->file_id(), bo)->resident, uint16_t{1});
}

TEST_F(BoPressure, MoreThanTheRegionFailsWithEnospcAndGivesEverythingBack) {
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 32 * kMiB});
  ASSERT_EQ(lease.status().code(), absl::StatusCode::kResourceExhausted)
      << lease.status();
  EXPECT_EQ(StatusErrno(lease.status()), -ENOSPC);
  EXPECT_THAT(lease.status().message(),
              HasSubstr(absl::StrCat("stopped after ", 16 * kMiB, " bytes")));
  EXPECT_EQ(VramUsed(), 0u);
}

TEST_F(BoPressure, RoundsUpToTheRegionPageSize) {
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 5 * kMiB + 1});
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ((*lease)->bytes(), 5 * kMiB + 4096);
  EXPECT_EQ(VramUsed(), 5 * kMiB + 4096);
  lease->reset();
  EXPECT_EQ(VramUsed(), 0u);
}

TEST_F(BoPressure, TtlExpiryClosesTheFile) {
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_.Acquire({1, 4 * kMiB, absl::Milliseconds(1)});
  ASSERT_TRUE(lease.ok()) << lease.status();
  ASSERT_TRUE((*lease)->WaitReleased(absl::Seconds(20)));
  EXPECT_EQ(VramUsed(), 0u);
}

TEST_F(BoPressure, TakesOnlyVramRegionsItKnows) {
  EXPECT_EQ(injector_.Acquire({0, kMiB}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(injector_.Acquire({7, kMiB}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(injector_.Acquire({1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device_->Regions()[0].used, 0u);
}

TEST(BoPressureInjector, DeviceWithoutVramIsUnavailable) {
  absl::StatusOr<std::shared_ptr<sim::Device>> igpu =
      sim::Device::Create("lnl-igpu");
  ASSERT_TRUE(igpu.ok()) << igpu.status();
  BoPressureInjector injector(FilesOn(*igpu));
  absl::Status status = injector.CheckAvailable();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("needs VRAM"));
}

TEST(BoPressureInjector, FileThatDoesNotOpenIsUnavailableWithTheReason) {
  BoPressureInjector injector([]() -> BoPressureInjector::OpenResult {
    return absl::NotFoundError("no xe render node: /dev/dri does not exist");
  });
  EXPECT_EQ(injector.Name(), "xe-vram");
  absl::Status status = injector.CheckAvailable();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("xe-vram pressure needs an xe render node: no xe "
                        "render node: /dev/dri does not exist"));
  EXPECT_EQ(injector.Acquire({1, kMiB}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(XeVramInjector, ReportsTheMissingXeNodeOnThisHost) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> probe = DrmBackend::Open();
  if (probe.ok()) GTEST_SKIP() << "this host has an xe render node";
  std::unique_ptr<BoPressureInjector> injector = MakeXeVramInjector();
  absl::Status status = injector->CheckAvailable();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(),
              HasSubstr("xe-vram pressure needs an xe render node"));
  EXPECT_THAT(status.message(), HasSubstr(probe.status().message()));
  EXPECT_EQ(injector->Acquire({1, kMiB}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace xehil
