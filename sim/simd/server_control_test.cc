// The control channel: status contents, pressure, faults applied to open
// files, rules added at run time, waits.
#include <cerrno>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)
using ::testing::HasSubstr;

class ServerControl : public ServerTest {
 protected:
  absl::Status Control(const sim::ControlRequest& request) {
    Client control = Connect(Role::kControl);
    return control.Control(request).status();
  }
};

TEST_F(ServerControl, StatusDescribesTheDeviceAndItsCounters) {
  std::unique_ptr<RemoteBackend> file = OpenRemote("prog");
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  ASSERT_EQ(VmCreate(*file, 1u << 20, &vm), -EINVAL);
  ASSERT_EQ(GemCreate(*file, sim::kMiB, kVram, &bo), 0);

  sim::DeviceStatus status = Status();
  EXPECT_EQ(status.profile(), "tiny");
  EXPECT_THAT(status.description(), HasSubstr("tiny"));
  ASSERT_EQ(status.regions_size(), 2);
  EXPECT_EQ(status.regions(0).mem_class(), "system");
  EXPECT_EQ(status.regions(1).mem_class(), "vram");
  EXPECT_EQ(status.regions(1).instance(), 1u);
  EXPECT_EQ(status.regions(1).total_bytes(), 16 * sim::kMiB);
  EXPECT_EQ(status.regions(1).used_bytes(), sim::kMiB);

  auto count = [&](const std::string& name, int result) -> uint64_t {
    for (const sim::IoctlCount& c : status.counters().ioctls()) {
      if (c.name() == name && c.result() == result) return c.count();
    }
    return 0;
  };
  EXPECT_EQ(count("VM_CREATE", 0), 1u);
  EXPECT_EQ(count("VM_CREATE", -EINVAL), 1u);
  EXPECT_EQ(count("GEM_CREATE", 0), 1u);
  for (const sim::IoctlCount& c : status.counters().ioctls()) {
    if (c.result() == -EINVAL) {
      EXPECT_EQ(c.errno_name(), "EINVAL");
    } else if (c.result() == 0) {
      EXPECT_EQ(c.errno_name(), "");
    }
  }
  EXPECT_EQ(status.daemon().files_opened(), 1u);
  // The file's DRM connection, and this status request's.
  EXPECT_EQ(status.daemon().connections(), 2u);
}

TEST_F(ServerControl, PressureEvictsAndRebindFailurePausesTheVm) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 1), 0);
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file, kRestartable, 8 * sim::kMiB, kVram, &vm, &bo), 0);

  sim::ControlRequest inject;
  inject.mutable_inject_pressure()->set_bytes(12 * sim::kMiB);
  ASSERT_TRUE(Control(inject).ok());
  std::vector<uint8_t> record = ReadBytes(pipe->read_end.get(), 24);
  ASSERT_EQ(record.size(), 24u);
  EXPECT_EQ(DecodeVmErr(record.data()).error, -ENOSPC);
  sim::DeviceStatus status = Status();
  EXPECT_EQ(status.regions(1).pressure_bytes(), 12 * sim::kMiB);
  EXPECT_EQ(status.counters().evictions(), 1u);
  EXPECT_EQ(status.counters().vms_paused(), 1u);

  sim::ControlRequest release;
  release.mutable_release_pressure()->set_bytes(12 * sim::kMiB);
  ASSERT_TRUE(Control(release).ok());
  EXPECT_EQ(Restart(*file, vm), 0);
  EXPECT_EQ(Control(release).code(), absl::StatusCode::kFailedPrecondition)
      << "nothing left to release";
  sim::ControlRequest nowhere;
  nowhere.mutable_inject_pressure()->set_instance(9);
  nowhere.mutable_inject_pressure()->set_bytes(1);
  EXPECT_EQ(Control(nowhere).code(), absl::StatusCode::kNotFound);
}

TEST_F(ServerControl, ApplyChecksItsFileVmAndActions) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);

  sim::ControlRequest apply;
  apply.mutable_apply()->set_file_id(999);
  *apply.mutable_apply()->add_action() = TriggerRebind();
  absl::Status unknown_file = Control(apply);
  EXPECT_EQ(unknown_file.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown_file.message(), HasSubstr("999"));

  apply.mutable_apply()->set_file_id(file->file_id());
  apply.mutable_apply()->set_vm_id(77);
  EXPECT_EQ(Control(apply).code(), absl::StatusCode::kNotFound);

  apply.mutable_apply()->clear_action();
  EXPECT_EQ(Control(apply).code(), absl::StatusCode::kInvalidArgument);
  apply.mutable_apply()->add_action();
  EXPECT_EQ(Control(apply).code(), absl::StatusCode::kInvalidArgument);

  // vm_id 0: every restartable VM of the file; -EAGAIN restarts queue up.
  sim::ControlRequest faults;
  faults.mutable_apply()->set_file_id(file->file_id());
  *faults.mutable_apply()->add_action() = FailRebinds(-ENOMEM);
  faults.mutable_apply()->add_action()->set_restart_eagain(1);
  *faults.mutable_apply()->add_action() = TriggerRebind();
  ASSERT_TRUE(Control(faults).ok());
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  ASSERT_TRUE(Control(idle).ok());
  EXPECT_EQ(server_->device()->GetVm(file->file_id(), vm)->state,
            sim::VmState::kPaused);
  EXPECT_EQ(Restart(*file, vm), -EAGAIN);
  EXPECT_EQ(Restart(*file, vm), 0);
  // A rebind trigger on a paused VM is refused with the device's reason.
  ASSERT_TRUE(Control(faults).ok());
  ASSERT_TRUE(Control(idle).ok());
  absl::Status paused = Control(faults);
  EXPECT_EQ(paused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(paused.message(), HasSubstr("paused"));
}

TEST_F(ServerControl, AddedRulesFireForLaterFiles) {
  sim::ControlRequest bad;
  bad.mutable_add_rules()->add_rule();
  absl::Status invalid = Control(bad);
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.message(), HasSubstr("rule 1"));

  sim::ControlRequest add;
  sim::Rule* rule = add.mutable_add_rules()->add_rule();
  rule->mutable_when()->mutable_vm_created();
  *rule->add_action() = FailRebinds(-ENOSPC);
  *rule->add_action() = TriggerRebind();
  ASSERT_TRUE(Control(add).ok());

  std::unique_ptr<RemoteBackend> file = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  ASSERT_TRUE(Control(idle).ok());
  EXPECT_EQ(server_->device()->GetVm(file->file_id(), vm)->state,
            sim::VmState::kPaused);
  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.rules_size(), 1);
  EXPECT_EQ(status.rules(0).fired(), 1u);
  EXPECT_EQ(status.counters().records_unwatched(), 1u);
}

TEST_F(ServerControl, WaitReleasedReturnsOnceTheFileIsGone) {
  std::optional<Client> file = Connect(Role::kDrmFile, "short-lived");
  const uint64_t id = file->file_id();
  Client control = Connect(Role::kControl);
  file.reset();
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_file_id(id);
  ASSERT_TRUE(control.Control(wait).ok());
  sim::ControlRequest status;
  status.mutable_status();
  EXPECT_EQ(control.Control(status)->status().files_size(), 0);
}

}  // namespace
}  // namespace xehil::simd
