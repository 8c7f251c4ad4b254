// Memory pressure: eviction of preempt-fence VMs' BOs, rebinds failing with
// -ENOSPC (VRAM-only) or -ENOMEM (system memory), fallback of VRAM-preferred
// BOs, and recovery once pressure is released.
#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(build/namespaces)

class Pressure : public SimFileTest {};

TEST_F(Pressure, VramPressureFailsAVramOnlyRebindWithEnospcUntilReleased) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_TRUE(device_->InjectPressure(1, 12 * kMiB).ok());
  device_->WaitIdle();
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
  EXPECT_FALSE(device_->GetBo(file_->file_id(), bo)->resident.has_value());
  EXPECT_EQ(device_->counters().evictions, 1u);

  EXPECT_EQ(Restart(*file_, vm), 0) << "failure is reported by a record";
  EXPECT_EQ(NextVmError(vm), -ENOSPC);

  ASSERT_TRUE(device_->ReleasePressure(1, 12 * kMiB).ok());
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->GetBo(file_->file_id(), bo)->resident, uint16_t{1});
  EXPECT_EQ(device_->Regions()[1].used, 8 * kMiB);
}

TEST_F(Pressure, SystemMemoryPressureFailsARebindWithEnomem) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kSysmem, &vm, &bo), 0);
  ASSERT_TRUE(device_->InjectPressure(0, 60 * kMiB).ok());
  device_->WaitIdle();
  EXPECT_EQ(NextVmError(vm), -ENOMEM);
  ASSERT_TRUE(device_->ReleasePressure(0, 60 * kMiB).ok());
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
}

TEST_F(Pressure, VramPreferredBoFallsBackToSystemMemory) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kVram | kSysmem, &vm, &bo),
            0);
  ASSERT_EQ(device_->GetBo(file_->file_id(), bo)->resident, uint16_t{1});
  ASSERT_TRUE(device_->InjectPressure(1, 12 * kMiB).ok());
  device_->WaitIdle();
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->GetBo(file_->file_id(), bo)->resident, uint16_t{0});
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
  EXPECT_EQ(device_->Regions()[0].used, 8 * kMiB);
}

TEST_F(Pressure, PressureEvictsOnlyBosOfPreemptFenceVms) {
  uint32_t plain = 0, plain_bo = 0, vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, 0, 4 * kMiB, kVram, &plain, &plain_bo), 0);
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 4 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_TRUE(device_->InjectPressure(1, 10 * kMiB).ok());
  device_->WaitIdle();
  EXPECT_EQ(device_->GetBo(file_->file_id(), plain_bo)->resident, uint16_t{1});
  EXPECT_FALSE(device_->GetBo(file_->file_id(), bo)->resident.has_value());
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
}

TEST_F(Pressure, PressureThatStillFitsEvictsNothing) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 4 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_TRUE(device_->InjectPressure(1, 12 * kMiB).ok());
  device_->WaitIdle();
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->counters().evictions, 0u);
  EXPECT_EQ(device_->InjectPressure(5, 1).code(), absl::StatusCode::kNotFound);
}

TEST_F(Pressure, CreatingABoBeyondVramEvictsLrBosLikeTtm) {
  uint32_t vm = 0, bo = 0, big = 0;
  ASSERT_EQ(VmWithBo(*file_, kRestartable, 8 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_EQ(GemCreate(*file_, 12 * kMiB, kVram, &big), 0);
  device_->WaitIdle();
  EXPECT_EQ(device_->GetBo(file_->file_id(), big)->resident, uint16_t{1});
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
  uint32_t too_big = 0;
  EXPECT_EQ(GemCreate(*file_, 32 * kMiB, kVram, &too_big), -ENOSPC);
  EXPECT_EQ(GemCreate(*file_, 128 * kMiB, kVram | kSysmem, &too_big), -ENOMEM);
}
}  // namespace
}  // namespace xehil::sim
