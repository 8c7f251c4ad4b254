// Runs inside `xehil vm-run` (vxe_control_vxe_test boots it): a program on
// the real kernel names its own DRM file to the guest daemon by its DRM
// client id and injects a fault over $XEHIL_VXE_CONTROL, the control
// protocol the socket daemon speaks. The kernel then posts the VM_ERR on
// the file's real notification pipe, and the daemon's status shows what the
// UAPI says. Skips outside vm-run.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "core/backend/drm_backend.h"
#include "core/device/xe_device.h"
#include "core/watch/record_decoder.h"
#include "gtest/gtest.h"
#include "proto/simd.pb.h"
#include "sim/simd/client.h"

namespace xehil {
namespace {

// The file `client_id` in a status; fails the test if it is not there.
const sim::OpenFile* FindFile(const sim::DeviceStatus& status,
                              uint64_t client_id) {
  for (const sim::OpenFile& file : status.files()) {
    if (file.file_id() == client_id) return &file;
  }
  ADD_FAILURE() << "no file " << client_id << " in the daemon's status:\n"
                << status.DebugString();
  return nullptr;
}

// The state of `vm` of file `client_id` as the daemon sees it.
sim::Vm::State VmState(simd::Client& control, uint64_t client_id, uint32_t vm) {
  sim::ControlRequest request;
  request.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control.Control(request);
  EXPECT_TRUE(reply.ok()) << reply.status();
  if (!reply.ok()) return sim::Vm::STATE_UNSPECIFIED;
  const sim::OpenFile* file = FindFile(reply->status(), client_id);
  if (file == nullptr) return sim::Vm::STATE_UNSPECIFIED;
  for (const sim::Vm& entry : file->vms()) {
    if (entry.vm_id() == vm) return entry.state();
  }
  ADD_FAILURE() << "file " << client_id << " has no VM " << vm;
  return sim::Vm::STATE_UNSPECIFIED;
}

sim::ControlRequest FailRebindAndTrigger(uint64_t client_id, uint32_t vm) {
  sim::ControlRequest request;
  sim::ApplyActions* apply = request.mutable_apply();
  apply->set_file_id(client_id);
  apply->set_vm_id(vm);
  sim::RebindFailure* fail = apply->add_action()->mutable_fail_rebinds();
  fail->set_count(1);
  fail->set_error(ERRNO_ENOMEM);
  apply->add_action()->mutable_trigger_rebind();
  return request;
}

// The events on `read_end` once it is readable (up to 20 s).
std::vector<WatchEvent> ReadEvents(int read_end) {
  pollfd fd{read_end, POLLIN, 0};
  std::vector<WatchEvent> events;
  if (::poll(&fd, 1, 20000) != 1) {
    ADD_FAILURE() << "no record on the notification pipe within 20 s";
    return events;
  }
  uint8_t buffer[RecordDecoder::kMaxRecordSize];
  const ssize_t n = ::read(read_end, buffer, sizeof(buffer));
  EXPECT_GT(n, 0) << "read: " << errno;
  if (n <= 0) return events;
  RecordDecoder decoder;
  decoder.Feed(absl::MakeConstSpan(buffer, static_cast<size_t>(n)), &events);
  return events;
}

TEST(VxeControl, FaultAppliedByClientIdPostsVmErrOnTheFilesPipe) {
  const char* path = std::getenv("XEHIL_VXE_CONTROL");
  if (path == nullptr || *path == '\0') {
    GTEST_SKIP() << "not inside `xehil vm-run` (no $XEHIL_VXE_CONTROL)";
  }
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open();
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::StatusOr<uint64_t> client_id = ReadDrmClientId((*backend)->fd());
  ASSERT_TRUE(client_id.ok()) << client_id.status();
  absl::StatusOr<simd::Client> control =
      simd::Client::Connect(path, simd::Role::kControl, "vxe_control_test");
  ASSERT_TRUE(control.ok()) << control.status();

  // The daemon lists the file under the id fdinfo gave, opened by us.
  sim::ControlRequest status;
  status.mutable_status();
  absl::StatusOr<sim::ControlReply> listed = control->Control(status);
  ASSERT_TRUE(listed.ok()) << listed.status();
  const sim::OpenFile* file = FindFile(listed->status(), *client_id);
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->pid(), static_cast<uint32_t>(::getpid()));

  XeDevice device(**backend);
  absl::StatusOr<uint32_t> vm = device.CreateVm(kRestartableLr);
  ASSERT_TRUE(vm.ok()) << vm.status();
  absl::StatusOr<NotificationPipe> pipe =
      device.WatchQueue(/*watch_id=*/7, NotificationPipeOptions{});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_EQ(VmState(*control, *client_id, *vm), sim::Vm::HEALTHY);

  absl::StatusOr<sim::ControlReply> applied =
      control->Control(FailRebindAndTrigger(*client_id, *vm));
  ASSERT_TRUE(applied.ok()) << applied.status();
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  ASSERT_TRUE(control->Control(idle).ok());

  std::vector<WatchEvent> events = ReadEvents(pipe->read_end.get());
  ASSERT_EQ(events.size(), 1u);
  const VmError* error = std::get_if<VmError>(&events[0]);
  ASSERT_NE(error, nullptr) << DescribeEvent(events[0]);
  EXPECT_EQ(error->vm_id, *vm);
  EXPECT_EQ(error->error, -ENOMEM);
  EXPECT_EQ(error->watch_id, 7);
  EXPECT_EQ(VmState(*control, *client_id, *vm), sim::Vm::PAUSED);

  absl::StatusOr<RestartOutcome> restarted = device.RestartVm(*vm);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE(control->Control(idle).ok());
  EXPECT_EQ(VmState(*control, *client_id, *vm), sim::Vm::HEALTHY);
}

TEST(VxeControl, AClientIdNoFileHasIsNotFound) {
  const char* path = std::getenv("XEHIL_VXE_CONTROL");
  if (path == nullptr || *path == '\0') {
    GTEST_SKIP() << "not inside `xehil vm-run` (no $XEHIL_VXE_CONTROL)";
  }
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open();
  ASSERT_TRUE(backend.ok()) << backend.status();
  absl::StatusOr<uint64_t> client_id = (*backend)->client_id();
  ASSERT_TRUE(client_id.ok()) << client_id.status();
  absl::StatusOr<simd::Client> control =
      simd::Client::Connect(path, simd::Role::kControl, "vxe_control_test");
  ASSERT_TRUE(control.ok()) << control.status();
  absl::StatusOr<sim::ControlReply> reply =
      control->Control(FailRebindAndTrigger(*client_id + 1000, 1));
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound)
      << reply.status();
}

}  // namespace
}  // namespace xehil
