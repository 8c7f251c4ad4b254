// Conformance cases for DRM_IOCTL_XE_VM_RESTART's answers (seed semantics,
// uapi.md) and what a rebind failure does to restartable and other VMs.
#include <cerrno>

#include "core/backend/conformance/conformance.h"

namespace xehil::conformance {
namespace {

TEST_P(BackendConformance, RestartAnswersWithoutAPausedVm) {
  uint32_t restartable = VmWithBo(file(), kRestartable);
  uint32_t lr = 0, plain = 0, gone = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &lr), 0);
  ASSERT_EQ(VmCreate(file(), 0, &plain), 0);
  ASSERT_EQ(VmCreate(file(), kRestartable, &gone), 0);
  ASSERT_EQ(VmDestroy(file(), gone), 0);
  EXPECT_EQ(Restart(file(), gone), -ENOENT);
  EXPECT_EQ(Restart(file(), restartable), -EALREADY) << "healthy: not paused";
  EXPECT_EQ(Restart(file(), lr), -EINVAL) << "LR but not restartable";
  EXPECT_EQ(Restart(file(), plain), -EINVAL) << "not in preempt-fence mode";
  drm_xe_vm_restart arg{};
  arg.vm_id = restartable;
  arg.pad = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg), -EINVAL);
  arg.pad = 0;
  arg.reserved = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg), -EINVAL);
}

TEST_P(BackendConformance, RestartOfAnotherFilesVmIsEnoent) {
  uint32_t vm = VmWithBo(file(), kRestartable);
  OpenedFile other = OpenAnother();
  ASSERT_NE(other.backend, nullptr);
  EXPECT_EQ(Restart(*other.backend, vm), -ENOENT) << "the other file has none";
}

TEST_P(BackendConformance, RebindFailurePausesARestartableVmUntilRestarted) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  uint32_t vm = VmWithBo(file(), kRestartable);
  FailRebind(file_, vm, -ENOMEM);
  if (VmObserver* observer = env_->Observer()) {
    absl::StatusOr<ObservedVm> seen = observer->GetVm(file_.client_id, vm);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(seen->state, ObservedVm::State::kPaused);
    EXPECT_EQ(seen->error, -ENOMEM);
  }
  EXPECT_EQ(Restart(file(), vm, 1), 0);
  EXPECT_EQ(Restart(file(), vm), -EALREADY) << "healthy again";
  if (VmObserver* observer = env_->Observer()) {
    absl::StatusOr<ObservedVm> seen = observer->GetVm(file_.client_id, vm);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(seen->state, ObservedVm::State::kHealthy);
  }
}

TEST_P(BackendConformance, RestartAnswersEagainWhileUserptrsMoveThenSucceeds) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  uint32_t vm = VmWithBo(file(), kRestartable);
  FailRebind(file_, vm, -ENOSPC);
  ASSERT_TRUE(env_->Faults()->FailNextRestarts(file_.client_id, vm, 2).ok());
  EXPECT_EQ(Restart(file(), vm), -EAGAIN);
  EXPECT_EQ(Restart(file(), vm), -EAGAIN);
  EXPECT_EQ(Restart(file(), vm), 0);
  EXPECT_EQ(Restart(file(), vm), -EALREADY);
}

TEST_P(BackendConformance, RestartWhoseRebindFailsAgainSucceedsWithANewRecord) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 3), 0);
  uint32_t vm = VmWithBo(file(), kRestartable);
  FailRebind(file_, vm, -ENOSPC);
  int rc = 0;
  std::vector<Record> first = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(
      env_->Faults()->FailNextRebinds(file_.client_id, vm, 1, -ENOMEM).ok());
  EXPECT_EQ(Restart(file(), vm, first[0].timestamp()), 0)
      << "a failure is reported by a record, not the return value";
  std::vector<Record> second = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(rc, 0);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_TRUE(second[0].is_vm_err());
  EXPECT_EQ(second[0].vm_id(), vm);
  EXPECT_EQ(second[0].error(), -ENOMEM);
  EXPECT_GE(second[0].timestamp(), first[0].timestamp());
  EXPECT_EQ(Restart(file(), vm), 0) << "still paused: restart again";
}

TEST_P(BackendConformance, RebindFailureBansAVmThatIsNotRestartable) {
  XEHIL_CONFORMANCE_NEEDS_FAULTS();
  NotificationPipe pipe = OpenPipe(file());
  ASSERT_EQ(Watch(file(), pipe.read_end.get(), 1), 0);
  uint32_t vm = VmWithBo(file(), kLr);
  // A restartable VM failing after it: its record proves the worker is past
  // the banned VM's rebind.
  uint32_t sentinel = VmWithBo(file(), kRestartable);
  FailRebind(file_, vm, -ENOMEM);
  FailRebind(file_, sentinel, -ENOMEM);
  int rc = 0;
  std::vector<Record> records = ParseRecords(ReadOnce(pipe, &rc));
  ASSERT_EQ(records.size(), 1u) << "a banned VM posts no VM_ERR";
  EXPECT_EQ(records[0].vm_id(), sentinel);

  uint32_t bo = 0, queue = 0;
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &bo), 0);
  EXPECT_EQ(BindBo(file(), vm, bo, 0, 4 * kMiB, 64 * kKiB), -ENOENT);
  EXPECT_EQ(ExecQueueCreate(file(), vm, AnEngine(), &queue), -ENOENT);
  EXPECT_EQ(Restart(file(), vm), -ENOENT);
  if (VmObserver* observer = env_->Observer()) {
    absl::StatusOr<ObservedVm> seen = observer->GetVm(file_.client_id, vm);
    ASSERT_TRUE(seen.ok()) << seen.status();
    EXPECT_EQ(seen->state, ObservedVm::State::kBanned);
  }
  EXPECT_EQ(VmDestroy(file(), vm), 0) << "a banned VM is only destroyed";
}

}  // namespace
}  // namespace xehil::conformance
