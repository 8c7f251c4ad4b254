// The rebind worker under concurrency: file release and VM destruction while
// it is busy, and restarts racing pressure from several threads.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/base/errno_status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/address_space_cap.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

class Worker : public SimFileTest {};

TEST(DeviceStart, AWorkerThreadThatCannotStartIsAStatus) {
  if (kUnderSanitizer) {
    GTEST_SKIP() << "RLIMIT_AS cannot make thread creation fail under a "
                    "sanitizer: it maps memory of its own for each thread";
  }
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // In the death test's own fresh process: no joined thread's stack is
  // cached, so the worker needs a new mapping, which the cap refuses.
  EXPECT_EXIT(
      {
        if (!CapAddressSpace(1 << 20)) _exit(3);
        absl::StatusOr<std::shared_ptr<Device>> device =
            Device::Start(TinyProfile());
        std::fprintf(stderr, "%s\n", device.status().ToString().c_str());
        _exit(!device.ok() && StatusErrno(device.status()) == -EAGAIN ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "rebind worker.*EAGAIN");
}

TEST_F(Worker, ReleasingAFileWhileTheWorkerIsBusyWithItIsSafe) {
  WorkerGate gate;
  device_->SetRebindHookForTesting([&](FileId, uint32_t) { gate.Enter(); });
  std::unique_ptr<SimBackend> doomed = device_->Open();
  uint32_t vm = 0, bo = 0, other_vm = 0;
  ASSERT_EQ(VmWithBo(*doomed, kRestartable, 8 * kMiB, kVram, &vm, &bo), 0);
  ASSERT_EQ(VmCreate(*doomed, kRestartable, &other_vm), 0);
  ASSERT_TRUE(device_->FailNextRebinds(doomed->file_id(), vm, 1, -ENOSPC).ok());
  ASSERT_TRUE(device_->TriggerRebind(doomed->file_id(), vm).ok());
  ASSERT_TRUE(device_->TriggerRebind(doomed->file_id(), other_vm).ok());
  gate.WaitEntered();  // the worker holds vm's rebind, other_vm's is queued
  doomed.reset();
  gate.Open();
  device_->WaitIdle();
  DeviceCounters counters = device_->counters();
  EXPECT_EQ(counters.rebinds, 0u) << "the file's rebinds were dropped";
  EXPECT_EQ(counters.vms_paused, 0u);
  EXPECT_EQ(device_->Regions()[1].used, 0u);
  device_->SetRebindHookForTesting(nullptr);
}

TEST_F(Worker, DestroyingAVmWithAQueuedRebindIsSafe) {
  WorkerGate gate;
  device_->SetRebindHookForTesting([&](FileId, uint32_t) { gate.Enter(); });
  uint32_t first = 0, second = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &first), 0);
  ASSERT_EQ(VmCreate(*file_, kRestartable, &second), 0);
  ASSERT_TRUE(device_->TriggerRebind(file_->file_id(), first).ok());
  ASSERT_TRUE(device_->TriggerRebind(file_->file_id(), second).ok());
  gate.WaitEntered();
  EXPECT_EQ(VmDestroy(*file_, first), 0);
  EXPECT_EQ(VmDestroy(*file_, second), 0);
  uint32_t reused = 0;
  ASSERT_EQ(VmCreate(*file_, kRestartable, &reused), 0);
  ASSERT_EQ(reused, first)
      << "the id is reused; the stale rebind must not hit it";
  gate.Open();
  device_->WaitIdle();
  EXPECT_EQ(device_->counters().rebinds, 0u);
  EXPECT_FALSE(device_->GetVm(file_->file_id(), reused)->rebind_pending);
  device_->SetRebindHookForTesting(nullptr);
}

TEST(RebindConcurrency, RestartsAndPressureFromManyThreadsStayConsistent) {
  std::shared_ptr<Device> device = Device::Create(TinyProfile());
  constexpr int kFiles = 4;
  std::vector<std::unique_ptr<SimBackend>> files;
  std::vector<uint32_t> vms(kFiles);
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(device->Open());
    uint32_t bo = 0;
    ASSERT_EQ(VmWithBo(*files[i], kRestartable, 2 * kMiB, kVram, &vms[i], &bo),
              0);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < kFiles; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 50; ++round) {
        int rc = Restart(*files[i], vms[i]);
        EXPECT_TRUE(rc == 0 || rc == -EALREADY) << rc;
      }
    });
  }
  for (int round = 0; round < 50; ++round) {
    ASSERT_TRUE(device->InjectPressure(1, 16 * kMiB).ok());
    ASSERT_TRUE(device->ReleasePressure(1, 16 * kMiB).ok());
  }
  for (std::thread& thread : threads) thread.join();
  device->WaitIdle();
  for (int i = 0; i < kFiles; ++i) {
    VmState state = device->GetVm(files[i]->file_id(), vms[i])->state;
    if (state == VmState::kPaused) {
      ASSERT_EQ(Restart(*files[i], vms[i]), 0);
    }
    EXPECT_EQ(device->GetVm(files[i]->file_id(), vms[i])->state,
              VmState::kHealthy);
  }
  files.clear();
  EXPECT_EQ(device->Regions()[1].used, 0u);
}

}  // namespace
}  // namespace xehil::sim

namespace xehil::sim::internal {
namespace {

TEST(IdAllocator, HandsOutTheLowestFreeIdLikeTheKernelsIdr) {
  IdAllocator ids;
  EXPECT_EQ(ids.Take(), 1u);
  EXPECT_EQ(ids.Take(), 2u);
  EXPECT_EQ(ids.Take(), 3u);
  EXPECT_EQ(ids.Take(), 4u);
  ids.Release(2);
  ids.Release(1);
  EXPECT_EQ(ids.Take(), 1u);
  ids.Release(4);  // the highest: 3 is now the highest in use
  ids.Release(3);  // and 2 was free: only 1 is in use
  EXPECT_EQ(ids.Take(), 2u);
  EXPECT_EQ(ids.Take(), 3u);
}

}  // namespace
}  // namespace xehil::sim::internal
