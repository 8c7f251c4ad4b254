#include "sim/simd/control_capabilities.h"

#include <unistd.h>

#include <cerrno>

#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using testing::ServerTest;

class ControlCapabilitiesTest : public ServerTest {
 protected:
  std::unique_ptr<ControlCapabilities> Caps() {
    absl::StatusOr<std::unique_ptr<ControlCapabilities>> caps =
        ControlCapabilities::Connect(socket_);
    EXPECT_TRUE(caps.ok()) << caps.status();
    return caps.ok() ? *std::move(caps) : nullptr;
  }
};

TEST_F(ControlCapabilitiesTest, FaultsPauseAVmThatTheObserverThenSees) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  std::unique_ptr<ControlCapabilities> caps = Caps();
  ASSERT_NE(caps, nullptr);
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(
      sim::testing::VmWithBo(*file, sim::testing::kRestartable, 1 * sim::kMiB,
                             sim::testing::kSysmem, &vm, &bo),
      0);
  absl::StatusOr<ObservedVm> seen = caps->GetVm(file->file_id(), vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kHealthy);

  ASSERT_TRUE(caps->FailNextRebinds(file->file_id(), vm, 1, -ENOSPC).ok());
  ASSERT_TRUE(caps->TriggerRebind(file->file_id(), vm).ok());
  ASSERT_TRUE(caps->WaitIdle().ok());
  seen = caps->GetVm(file->file_id(), vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kPaused);
  EXPECT_EQ(seen->error, -ENOSPC);

  ASSERT_TRUE(caps->FailNextRestarts(file->file_id(), vm, 1).ok());
  EXPECT_EQ(sim::testing::Restart(*file, vm), -EAGAIN);
  EXPECT_EQ(sim::testing::Restart(*file, vm), 0);
  seen = caps->GetVm(file->file_id(), vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kHealthy);
}

TEST_F(ControlCapabilitiesTest, DroppedRecordsNeverReachThePipe) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  std::unique_ptr<ControlCapabilities> caps = Caps();
  ASSERT_NE(caps, nullptr);
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 1), 0);
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(
      sim::testing::VmWithBo(*file, sim::testing::kRestartable, 1 * sim::kMiB,
                             sim::testing::kSysmem, &vm, &bo),
      0);
  ASSERT_TRUE(caps->DropNextRecords(file->file_id(), 1).ok());
  ASSERT_TRUE(caps->FailNextRebinds(file->file_id(), vm, 1, -ENOMEM).ok());
  ASSERT_TRUE(caps->TriggerRebind(file->file_id(), vm).ok());
  ASSERT_TRUE(caps->WaitIdle().ok());
  EXPECT_EQ(Status().counters().records_dropped(), 1u);
  EXPECT_EQ(Status().counters().records_posted(), 0u);
}

TEST_F(ControlCapabilitiesTest, UnknownFilesVmsAndErrnosAreRefused) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  std::unique_ptr<ControlCapabilities> caps = Caps();
  ASSERT_NE(caps, nullptr);
  const uint64_t id = file->file_id();
  uint32_t lr = 0;
  ASSERT_EQ(sim::testing::VmCreate(*file, sim::testing::kRestartable, &lr), 0);
  EXPECT_EQ(caps->FailNextRebinds(id, 9, 1, -ENOMEM).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(caps->FailNextRebinds(id, 0, 1, -ENOMEM).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(caps->FailNextRebinds(id, lr, 1, -EPERM).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(caps->GetVm(id, 9).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(caps->GetVm(id + 100, lr).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(caps->DropNextRecords(id + 100, 1).code(),
            absl::StatusCode::kNotFound);
  file.reset();
  ASSERT_TRUE(caps->WaitIdle().ok());
  EXPECT_EQ(caps->TriggerRebind(id, lr).code(), absl::StatusCode::kNotFound);
}

TEST_F(ControlCapabilitiesTest, NewestFileOfAProcessIsItsLastOpened) {
  std::unique_ptr<RemoteBackend> first = OpenRemote();
  std::unique_ptr<RemoteBackend> second = OpenRemote();
  std::unique_ptr<ControlCapabilities> caps = Caps();
  ASSERT_NE(caps, nullptr);
  absl::StatusOr<sim::DeviceStatus> status = caps->Status();
  ASSERT_TRUE(status.ok()) << status.status();
  absl::StatusOr<uint64_t> newest =
      NewestFileOf(*status, static_cast<uint32_t>(::getpid()));
  ASSERT_TRUE(newest.ok()) << newest.status();
  EXPECT_EQ(*newest, second->file_id());
  EXPECT_EQ(NewestFileOf(*status, 1).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xehil::simd
