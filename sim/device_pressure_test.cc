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

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

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

TEST_F(Pressure, BoUnboundFromAPausedVmIsNotPlacedByItsRestart) {
  // Two BOs private to the VM, 6 MiB each; 16 MiB of pressure evicts both.
  uint32_t vm = 0, kept = 0, dropped = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  ASSERT_EQ(GemCreate(*file_, 6 * kMiB, kVram, &kept, vm), 0);
  ASSERT_EQ(GemCreate(*file_, 6 * kMiB, kVram, &dropped, vm), 0);
  ASSERT_EQ(BindBo(*file_, vm, kept, 0, 16 * kMiB, 6 * kMiB), 0);
  ASSERT_EQ(BindBo(*file_, vm, dropped, 0, 32 * kMiB, 6 * kMiB), 0);
  ASSERT_TRUE(device_->InjectPressure(1, 16 * kMiB).ok());
  device_->WaitIdle();
  ASSERT_EQ(NextVmError(vm), -ENOSPC);

  // Room for one BO only: the full working set still fails.
  ASSERT_TRUE(device_->ReleasePressure(1, 6 * kMiB).ok());
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(NextVmError(vm), -ENOSPC);

  // Userspace may unbind from a VM in error; the restart then places only
  // what is still mapped, although the unbound BO stays private to the VM.
  EXPECT_EQ(Unbind(*file_, vm, 32 * kMiB, 6 * kMiB), 0);
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->GetBo(file_->file_id(), kept)->resident, uint16_t{1});
  EXPECT_FALSE(device_->GetBo(file_->file_id(), dropped)->resident.has_value());
  EXPECT_EQ(device_->Regions()[1].used, 6 * kMiB);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
}
}  // namespace
}  // namespace xehil::sim
