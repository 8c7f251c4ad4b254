// XeDevice against the simulated kernel (sim::SimBackend): every typed call,
// the bounded VM_RESTART retry, the watch-queue subscription and the
// restartable-VM bookkeeping.
#include "core/device/xe_device.h"

#include <cerrno>
#include <thread>
#include <vector>

#include "core/base/errno_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint32_t kSysmem = 1u << 0;
constexpr uint32_t kVram = 1u << 1;

class XeDeviceTest : public ::testing::Test {
 protected:
  // A restartable LR VM with one 2 MiB VRAM BO bound at 2 MiB, so that a
  // scripted rebind failure can pause it.
  uint32_t MakeBoundRestartableVm() {
    absl::StatusOr<uint32_t> vm = dev_.CreateVm(kRestartableLr);
    EXPECT_TRUE(vm.ok()) << vm.status();
    absl::StatusOr<uint32_t> bo = dev_.CreateBo(2 * kMiB, kVram);
    EXPECT_TRUE(bo.ok()) << bo.status();
    absl::Status bound = dev_.BindBo(*vm, *bo, 0, 2 * kMiB, 2 * kMiB);
    EXPECT_TRUE(bound.ok()) << bound;
    return vm.value_or(0);
  }

  // Pauses `vm` the way the kernel would: its next rebind fails with -ENOSPC.
  void PauseVm(uint32_t vm) {
    ASSERT_TRUE(
        device_->FailNextRebinds(backend_->file_id(), vm, 1, -ENOSPC).ok());
    ASSERT_TRUE(device_->TriggerRebind(backend_->file_id(), vm).ok());
    device_->WaitIdle();
    ASSERT_EQ(State(vm), sim::VmState::kPaused);
  }

  sim::VmState State(uint32_t vm) {
    absl::StatusOr<sim::VmStatus> status =
        device_->GetVm(backend_->file_id(), vm);
    EXPECT_TRUE(status.ok()) << status.status();
    return status.ok() ? status->state : sim::VmState::kBanned;
  }

  std::shared_ptr<sim::Device> device_ = *sim::Device::Create("dg2-16g");
  std::unique_ptr<sim::SimBackend> backend_ = device_->Open();
  XeDevice dev_{*backend_};
};

TEST_F(XeDeviceTest, QueriesTheDevicesMemoryRegions) {
  absl::StatusOr<std::vector<MemRegion>> regions = dev_.QueryMemRegions();
  ASSERT_TRUE(regions.ok()) << regions.status();
  ASSERT_EQ(regions->size(), 2u);
  EXPECT_EQ((*regions)[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  EXPECT_EQ((*regions)[0].instance, 0);
  EXPECT_EQ((*regions)[0].total_size, 32 * sim::kGiB);
  EXPECT_EQ((*regions)[1].mem_class, DRM_XE_MEM_REGION_CLASS_VRAM);
  EXPECT_EQ((*regions)[1].instance, 1);
  EXPECT_EQ((*regions)[1].min_page_size, 64 * 1024u);
  EXPECT_EQ((*regions)[1].total_size, 16 * sim::kGiB);
  EXPECT_EQ((*regions)[1].used, 0u);

  ASSERT_TRUE(dev_.CreateBo(2 * kMiB, kVram).ok());
  regions = dev_.QueryMemRegions();
  ASSERT_TRUE(regions.ok()) << regions.status();
  EXPECT_EQ((*regions)[1].used, 2 * kMiB);
}

TEST_F(XeDeviceTest, QueriesTheDevicesEngines) {
  absl::StatusOr<std::vector<EngineInfo>> engines = dev_.QueryEngines();
  ASSERT_TRUE(engines.ok()) << engines.status();
  const std::vector<sim::EngineSpec>& expected = device_->profile().engines;
  ASSERT_EQ(engines->size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ((*engines)[i].engine_class, expected[i].engine_class) << i;
    EXPECT_EQ((*engines)[i].engine_instance, expected[i].engine_instance) << i;
    EXPECT_EQ((*engines)[i].gt_id, expected[i].gt_id) << i;
  }
}

TEST_F(XeDeviceTest, CreatesAndDestroysVms) {
  absl::StatusOr<uint32_t> vm = dev_.CreateVm(DRM_XE_VM_CREATE_FLAG_LR_MODE);
  ASSERT_TRUE(vm.ok()) << vm.status();
  EXPECT_NE(*vm, 0u);
  EXPECT_TRUE(device_->GetVm(backend_->file_id(), *vm).ok());
  ASSERT_TRUE(dev_.DestroyVm(*vm).ok());

  absl::Status again = dev_.DestroyVm(*vm);
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusErrno(again), -ENOENT);
  EXPECT_THAT(again.message(),
              HasSubstr(absl::StrCat("VM_DESTROY vm ", *vm, ": -ENOENT")));
}

TEST_F(XeDeviceTest, RejectedVmFlagsNameTheFlags) {
  // RESTARTABLE needs LR_MODE.
  absl::StatusOr<uint32_t> vm =
      dev_.CreateVm(DRM_XE_VM_CREATE_FLAG_RESTARTABLE);
  EXPECT_EQ(vm.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(vm.status().message(),
              HasSubstr("VM_CREATE flags 0x10: -EINVAL"));
  EXPECT_THAT(dev_.RestartableVms(), IsEmpty());
}

TEST_F(XeDeviceTest, CreatesAndClosesBosInEveryRegion) {
  // The CPU caching mode XeDevice picks must suit each placement.
  for (uint32_t placement : {kSysmem, kVram, kSysmem | kVram}) {
    absl::StatusOr<uint32_t> bo = dev_.CreateBo(2 * kMiB, placement);
    ASSERT_TRUE(bo.ok()) << placement << ": " << bo.status();
    absl::StatusOr<sim::BoStatus> status =
        device_->GetBo(backend_->file_id(), *bo);
    ASSERT_TRUE(status.ok()) << status.status();
    EXPECT_EQ(status->size, 2 * kMiB);
    EXPECT_EQ(status->placement, placement);
    ASSERT_TRUE(dev_.CloseBo(*bo).ok());
    absl::Status again = dev_.CloseBo(*bo);  // DRM core: unknown handle
    EXPECT_EQ(StatusErrno(again), -EINVAL);
    EXPECT_THAT(again.message(), HasSubstr(absl::StrCat("GEM_CLOSE bo ", *bo)));
  }
}

TEST_F(XeDeviceTest, CreatesVmPrivateBos) {
  absl::StatusOr<uint32_t> vm = dev_.CreateVm(kRestartableLr);
  ASSERT_TRUE(vm.ok()) << vm.status();
  absl::StatusOr<uint32_t> bo = dev_.CreateBo(2 * kMiB, kVram, *vm);
  ASSERT_TRUE(bo.ok()) << bo.status();
  EXPECT_TRUE(dev_.BindBo(*vm, *bo, 0, 4 * kMiB, 2 * kMiB).ok());

  absl::StatusOr<uint32_t> orphan = dev_.CreateBo(2 * kMiB, kVram, *vm + 100);
  EXPECT_EQ(StatusErrno(orphan.status()), -ENOENT);
  EXPECT_THAT(
      orphan.status().message(),
      HasSubstr(absl::StrCat("GEM_CREATE size 2097152 placement 0x2 vm ",
                             *vm + 100, ": -ENOENT")));
}

TEST_F(XeDeviceTest, BindsAndUnbindsBos) {
  absl::StatusOr<uint32_t> vm = dev_.CreateVm(DRM_XE_VM_CREATE_FLAG_LR_MODE);
  ASSERT_TRUE(vm.ok()) << vm.status();
  absl::StatusOr<uint32_t> bo = dev_.CreateBo(4 * kMiB, kVram);
  ASSERT_TRUE(bo.ok()) << bo.status();
  ASSERT_TRUE(dev_.BindBo(*vm, *bo, 0, 2 * kMiB, 2 * kMiB).ok());
  ASSERT_TRUE(dev_.BindBo(*vm, *bo, 2 * kMiB, 8 * kMiB, 2 * kMiB).ok());
  EXPECT_TRUE(dev_.Unbind(*vm, 2 * kMiB, 2 * kMiB).ok());
  EXPECT_TRUE(dev_.Unbind(*vm, 8 * kMiB, 2 * kMiB).ok());
  EXPECT_EQ(device_->counters().Ioctls("VM_BIND", 0), 4u);

  absl::Status unknown_bo = dev_.BindBo(*vm, *bo + 100, 0, 2 * kMiB, 2 * kMiB);
  EXPECT_EQ(StatusErrno(unknown_bo), -ENOENT);
  EXPECT_THAT(unknown_bo.message(),
              HasSubstr(absl::StrCat("VM_BIND vm ", *vm, " map bo ", *bo + 100,
                                     " offset 0 at 0x200000 range 0x200000")));
}

TEST_F(XeDeviceTest, CreatesAndDestroysExecQueuesOnQueriedEngines) {
  absl::StatusOr<std::vector<EngineInfo>> engines = dev_.QueryEngines();
  ASSERT_TRUE(engines.ok()) << engines.status();
  ASSERT_FALSE(engines->empty());
  absl::StatusOr<uint32_t> vm = dev_.CreateVm(DRM_XE_VM_CREATE_FLAG_LR_MODE);
  ASSERT_TRUE(vm.ok()) << vm.status();
  absl::StatusOr<uint32_t> queue = dev_.CreateExecQueue(*vm, engines->front());
  ASSERT_TRUE(queue.ok()) << queue.status();
  ASSERT_TRUE(dev_.DestroyExecQueue(*queue).ok());
  absl::Status again = dev_.DestroyExecQueue(*queue);
  EXPECT_EQ(StatusErrno(again), -ENOENT);
  EXPECT_THAT(again.message(),
              HasSubstr(absl::StrCat("EXEC_QUEUE_DESTROY queue ", *queue)));

  EngineInfo missing{DRM_XE_ENGINE_CLASS_RENDER, 7, 0};
  absl::StatusOr<uint32_t> bad = dev_.CreateExecQueue(*vm, missing);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr(absl::StrCat("EXEC_QUEUE_CREATE vm ", *vm,
                                     " engine 0:7 gt 0: -")));
}

TEST_F(XeDeviceTest, RestartOfHealthyVmIsFailedPreconditionWithEalready) {
  uint32_t vm = MakeBoundRestartableVm();
  absl::StatusOr<RestartOutcome> outcome = dev_.RestartVm(vm);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusErrno(outcome.status()), -EALREADY);
  EXPECT_THAT(outcome.status().message(),
              HasSubstr(absl::StrCat("VM_RESTART vm ", vm, ": -EALREADY (")));
  EXPECT_EQ(device_->counters().Ioctls("VM_RESTART", -EALREADY), 1u);
}

TEST_F(XeDeviceTest, RestartOfPausedVmMakesItHealthyInOneTry) {
  uint32_t vm = MakeBoundRestartableVm();
  PauseVm(vm);
  absl::StatusOr<RestartOutcome> outcome = dev_.RestartVm(vm, 1);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->tries, 1);
  EXPECT_EQ(State(vm), sim::VmState::kHealthy);
  EXPECT_EQ(device_->counters().restart_latency_samples, 1u);
}

TEST_F(XeDeviceTest, RestartRetriesEagainAndReportsTries) {
  uint32_t vm = MakeBoundRestartableVm();
  PauseVm(vm);
  ASSERT_TRUE(device_->FailNextRestarts(backend_->file_id(), vm, 3).ok());
  absl::StatusOr<RestartOutcome> outcome = dev_.RestartVm(vm, 0, 5);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->tries, 4);
  EXPECT_EQ(State(vm), sim::VmState::kHealthy);
  EXPECT_EQ(device_->counters().Ioctls("VM_RESTART", -EAGAIN), 3u);
  EXPECT_EQ(device_->counters().Ioctls("VM_RESTART", 0), 1u);
}

TEST_F(XeDeviceTest, RestartGivesUpAfterTheBoundAsUnavailable) {
  uint32_t vm = MakeBoundRestartableVm();
  PauseVm(vm);
  ASSERT_TRUE(device_->FailNextRestarts(backend_->file_id(), vm, 5).ok());
  absl::StatusOr<RestartOutcome> outcome = dev_.RestartVm(vm, 0, 5);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusErrno(outcome.status()), -EAGAIN);
  EXPECT_THAT(outcome.status().message(),
              HasSubstr(absl::StrCat("VM_RESTART vm ", vm,
                                     " still busy after 5 tries: -EAGAIN")));
  EXPECT_EQ(device_->counters().Ioctls("VM_RESTART", -EAGAIN), 5u);
  EXPECT_EQ(State(vm), sim::VmState::kPaused);

  // The bound applies per call: the next call succeeds at once.
  outcome = dev_.RestartVm(vm, 0, 5);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->tries, 1);
}

TEST_F(XeDeviceTest, WatchQueueDeliversVmErrorRecords) {
  absl::StatusOr<NotificationPipe> pipe = dev_.WatchQueue(5, {});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  uint32_t vm = MakeBoundRestartableVm();
  uint64_t before = MonotonicNowNs();
  PauseVm(vm);

  std::vector<uint8_t> bytes =
      sim::testing::ReadAvailable(pipe->read_end.get());
  ASSERT_EQ(bytes.size(), sizeof(drm_xe_watch_notification_vm_err));
  sim::testing::VmErrFields record = sim::testing::DecodeVmErr(bytes.data());
  EXPECT_EQ(record.type, uint32_t{WATCH_TYPE_DRM_XE_NOTIFY});
  EXPECT_EQ(record.subtype, uint32_t{DRM_XE_WATCH_EVENT_VM_ERR});
  EXPECT_EQ(record.info & WATCH_INFO_LENGTH, 24u);
  EXPECT_EQ((record.info & WATCH_INFO_ID) >> WATCH_INFO_ID__SHIFT, 5u);
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error, -ENOSPC);
  EXPECT_GE(record.timestamp_ns, before);

  // A restart whose rebind fails again succeeds as a call; the failure
  // arrives as a new record.
  ASSERT_TRUE(
      device_->FailNextRebinds(backend_->file_id(), vm, 1, -ENOMEM).ok());
  absl::StatusOr<RestartOutcome> outcome =
      dev_.RestartVm(vm, record.timestamp_ns);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->tries, 1);
  bytes = sim::testing::ReadAvailable(pipe->read_end.get());
  ASSERT_EQ(bytes.size(), sizeof(drm_xe_watch_notification_vm_err));
  record = sim::testing::DecodeVmErr(bytes.data());
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error, -ENOMEM);
}

TEST_F(XeDeviceTest, WatchQueuePassesPipeErrorsThrough) {
  NotificationPipeOptions options;
  options.ring_notes = 0;
  absl::StatusOr<NotificationPipe> pipe = dev_.WatchQueue(1, options);
  EXPECT_EQ(pipe.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(device_->counters().Ioctls("WATCH_QUEUE", 0), 0u);
}

TEST_F(XeDeviceTest, TracksRestartableVmsUntilDestroyed) {
  absl::StatusOr<uint32_t> a = dev_.CreateVm(kRestartableLr);
  absl::StatusOr<uint32_t> b = dev_.CreateVm(kRestartableLr);
  absl::StatusOr<uint32_t> lr = dev_.CreateVm(DRM_XE_VM_CREATE_FLAG_LR_MODE);
  ASSERT_TRUE(a.ok() && b.ok() && lr.ok());
  EXPECT_THAT(dev_.RestartableVms(), UnorderedElementsAreArray({*a, *b}));

  ASSERT_TRUE(dev_.DestroyVm(*a).ok());
  EXPECT_THAT(dev_.RestartableVms(), ElementsAre(*b));

  // Destroyed behind XeDevice's back: DestroyVm's -ENOENT forgets it too.
  ASSERT_EQ(sim::testing::VmDestroy(*backend_, *b), 0);
  EXPECT_THAT(dev_.RestartableVms(), ElementsAre(*b));
  EXPECT_EQ(StatusErrno(dev_.DestroyVm(*b)), -ENOENT);
  EXPECT_THAT(dev_.RestartableVms(), IsEmpty());

  // Other failures keep the VM: it may still exist.
  absl::StatusOr<uint32_t> c = dev_.CreateVm(kRestartableLr);
  ASSERT_TRUE(c.ok());
  absl::StatusOr<uint32_t> queue =
      dev_.CreateExecQueue(*c, {DRM_XE_ENGINE_CLASS_COMPUTE, 0, 0});
  ASSERT_TRUE(queue.ok()) << queue.status();
  absl::Status busy = dev_.DestroyVm(*c);
  EXPECT_EQ(StatusErrno(busy), -EBUSY);
  EXPECT_THAT(dev_.RestartableVms(), ElementsAre(*c));
}

TEST_F(XeDeviceTest, ConcurrentCallsKeepTheBookkeepingExact) {
  constexpr int kThreads = 4;
  constexpr int kVmsPerThread = 25;
  uint32_t paused = MakeBoundRestartableVm();
  PauseVm(paused);
  std::vector<std::vector<uint32_t>> kept(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &kept] {
      for (int i = 0; i < kVmsPerThread; ++i) {
        absl::StatusOr<uint32_t> vm = dev_.CreateVm(kRestartableLr);
        if (!vm.ok()) {
          ADD_FAILURE() << vm.status();
          return;
        }
        // Keep every third VM, destroy the rest.
        if (i % 3 == 0) {
          kept[t].push_back(*vm);
        } else if (absl::Status s = dev_.DestroyVm(*vm); !s.ok()) {
          ADD_FAILURE() << s;
        }
        (void)dev_.RestartableVms();
      }
    });
  }
  // Meanwhile another thread restarts the paused VM.
  absl::StatusOr<RestartOutcome> restarted = dev_.RestartVm(paused);
  for (std::thread& thread : threads) thread.join();
  ASSERT_TRUE(restarted.ok()) << restarted.status();

  std::vector<uint32_t> expected{paused};
  for (const auto& ids : kept)
    expected.insert(expected.end(), ids.begin(), ids.end());
  EXPECT_THAT(dev_.RestartableVms(), UnorderedElementsAreArray(expected));
}

}  // namespace
}  // namespace xehil
