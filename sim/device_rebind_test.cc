// VM_RESTART semantics and what a failed rebind does to a VM: pause and
// VM_ERR for a restartable VM, a ban otherwise.
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

class Rebind : public SimFileTest {};

TEST_F(Rebind, RestartValidation) {
  uint32_t plain = 0, lr = 0, fault = 0, restartable = 0;
  ASSERT_EQ(VmCreate(*file_, 0, &plain), 0);
  ASSERT_EQ(VmCreate(*file_, kLr, &lr), 0);
  ASSERT_EQ(VmCreate(*file_, kLr | DRM_XE_VM_CREATE_FLAG_FAULT_MODE, &fault),
            0);
  ASSERT_EQ(VmCreate(*file_, kRestartable, &restartable), 0);
  EXPECT_EQ(Restart(*file_, plain), -EINVAL) << "not LR";
  EXPECT_EQ(Restart(*file_, lr), -EINVAL) << "not restartable";
  EXPECT_EQ(Restart(*file_, fault), -EINVAL) << "fault mode";
  EXPECT_EQ(Restart(*file_, restartable), -EALREADY) << "healthy";
  EXPECT_EQ(Restart(*file_, 42), -ENOENT);
  drm_xe_vm_restart arg{};
  arg.vm_id = restartable;
  arg.pad = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg), -EINVAL);
  arg.pad = 0;
  arg.reserved = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg), -EINVAL);
  EXPECT_EQ(device_->counters().restarts, 0u);
}

TEST_F(Rebind, FailedRebindPausesARestartableVmAndPostsVmErr) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOSPC);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_EQ(device_->GetVm(file_->file_id(), vm)->error, -ENOSPC);
  EXPECT_EQ(NextVmError(vm), -ENOSPC);
  EXPECT_EQ(device_->counters().vms_paused, 1u);
}

TEST_F(Rebind, ScriptedAgainRestartsReturnEagainThenSucceed) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOMEM);
  ASSERT_EQ(NextVmError(vm), -ENOMEM);
  ASSERT_TRUE(device_->FailNextRestarts(file_->file_id(), vm, 2).ok());
  EXPECT_EQ(Restart(*file_, vm), -EAGAIN);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_EQ(Restart(*file_, vm), -EAGAIN);
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(Restart(*file_, vm), -EALREADY);
  DeviceCounters counters = device_->counters();
  EXPECT_EQ(counters.Ioctls("VM_RESTART", -EAGAIN), 2u);
  EXPECT_EQ(counters.restarts_again, 2u);
  EXPECT_EQ(counters.restarts_succeeded, 1u);
}

TEST_F(Rebind, RecordSinkTakesEachVmErrOnceInsteadOfTheWatches) {
  std::vector<std::pair<FileId, std::vector<uint8_t>>> sunk;
  device_->SetRecordSink([&](FileId file, absl::Span<const uint8_t> record) {
    sunk.emplace_back(file, std::vector<uint8_t>(record.begin(), record.end()));
  });
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOMEM);
  ASSERT_EQ(sunk.size(), 1u);
  EXPECT_EQ(sunk[0].first, file_->file_id());
  drm_xe_watch_notification_vm_err record{};
  ASSERT_EQ(sunk[0].second.size(), sizeof(record));
  std::memcpy(&record, sunk[0].second.data(), sizeof(record));
  EXPECT_EQ(record.base.type, uint32_t{WATCH_TYPE_DRM_XE_NOTIFY});
  EXPECT_EQ(record.base.subtype, uint32_t{DRM_XE_WATCH_EVENT_VM_ERR});
  // Only the length: whoever owns the watches ORs in their ids.
  EXPECT_EQ(record.base.info, sizeof(record));
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error_code, -ENOMEM);
  EXPECT_NE(record.timestamp_ns, 0u);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
  EXPECT_EQ(device_->counters().records_posted, 1u);

  ASSERT_TRUE(device_->DropNextRecords(file_->file_id(), 1).ok());
  ASSERT_EQ(Restart(*file_, vm), 0);
  FailRebind(vm, -ENOSPC);
  EXPECT_EQ(sunk.size(), 1u) << "the fault script's drop still applies";
  EXPECT_EQ(device_->counters().records_dropped, 1u);
}

TEST_F(Rebind, RestartRunsTheRebindSynchronouslyAndMakesTheVmHealthy) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOSPC);
  ASSERT_EQ(NextVmError(vm), -ENOSPC);
  const uint64_t rebinds = device_->counters().rebinds;
  EXPECT_EQ(Restart(*file_, vm, MonotonicNowNs()), 0);
  // Done on return: no worker involved, no new record.
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->counters().rebinds, rebinds + 1);
  EXPECT_EQ(device_->counters().restart_latency_samples, 1u);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
}

TEST_F(Rebind, FailedRestartPostsANewVmErrAndReturnsZero) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOSPC);
  ASSERT_EQ(NextVmError(vm), -ENOSPC);
  ASSERT_TRUE(device_->FailNextRebinds(file_->file_id(), vm, 1, -ENOMEM).ok());
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_EQ(NextVmError(vm), -ENOMEM);
  EXPECT_EQ(device_->counters().restarts_failed, 1u);
}

TEST_F(Rebind, AgainFromTheRebindInsideRestartIsReturned) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -ENOSPC);
  ASSERT_EQ(NextVmError(vm), -ENOSPC);
  ASSERT_TRUE(device_->FailNextRebinds(file_->file_id(), vm, 1, -EAGAIN).ok());
  EXPECT_EQ(Restart(*file_, vm), -EAGAIN);
  EXPECT_EQ(StateOf(vm), VmState::kPaused);
  EXPECT_EQ(Restart(*file_, vm), 0);
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
}

TEST_F(Rebind, WorkerRetriesAgainUntilTheScriptIsConsumed) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  ASSERT_TRUE(device_->FailNextRebinds(file_->file_id(), vm, 3, -EAGAIN).ok());
  ASSERT_TRUE(device_->TriggerRebind(file_->file_id(), vm).ok());
  device_->WaitIdle();
  EXPECT_EQ(StateOf(vm), VmState::kHealthy);
  EXPECT_EQ(device_->counters().rebind_again_retries, 3u);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
}

TEST_F(Rebind, NonRestartableVmIsBannedByAFailedRebind) {
  uint32_t vm = 0, bo = 0, queue = 0;
  ASSERT_EQ(VmWithBo(*file_, kLr, 1 * kMiB, kVram, &vm, &bo), 0);
  FailRebind(vm, -ENOMEM);
  EXPECT_EQ(StateOf(vm), VmState::kBanned);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty()) << "no VM_ERR";
  EXPECT_EQ(ExecQueueCreate(*file_, vm, &queue), -ENOENT);
  EXPECT_EQ(BindBo(*file_, vm, bo, 0, 8 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(Restart(*file_, vm), -ENOENT);
  EXPECT_EQ(VmDestroy(*file_, vm), 0) << "a banned VM can still be destroyed";
  EXPECT_EQ(device_->counters().vms_banned, 1u);
}

TEST_F(Rebind, RestartableVmIsBannedByAnErrorOtherThanEnomemOrEnospc) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  FailRebind(vm, -EIO);
  EXPECT_EQ(StateOf(vm), VmState::kBanned);
  EXPECT_TRUE(ReadAvailable(pipe_.read_end.get()).empty());
}

TEST_F(Rebind, TriggerRebindNeedsARunningRebindWorker) {
  uint32_t plain = 0, vm = 0;
  ASSERT_EQ(VmCreate(*file_, 0, &plain), 0);
  ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
  EXPECT_EQ(device_->TriggerRebind(file_->file_id(), plain).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(device_->TriggerRebind(file_->file_id(), 9).code(),
            absl::StatusCode::kNotFound);
  FailRebind(vm, -ENOSPC);
  EXPECT_EQ(device_->TriggerRebind(file_->file_id(), vm).code(),
            absl::StatusCode::kFailedPrecondition)
      << "paused";
  EXPECT_EQ(device_->FailNextRebinds(file_->file_id(), vm, 1, 5).code(),
            absl::StatusCode::kInvalidArgument);
}
}  // namespace
}  // namespace xehil::sim
