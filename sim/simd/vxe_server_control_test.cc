// VxeServer's control socket: the socket daemon's control protocol, with
// files named by their kernel file id, served beside the control device
// (vxe_server_fixture.h plays the kernel).
#include <cerrno>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/client.h"
#include "sim/simd/simd_test_util.h"
#include "sim/simd/vxe_server_fixture.h"

namespace xehil::simd {
namespace {

using ::testing::HasSubstr;
using ::xehil::sim::testing::kRestartable;
using ::xehil::simd::testing::TempDir;

class VxeControl : public testing::VxeServerTest {
 protected:
  void StartWithSocket(int max_connections = 4, int handshake_ms = 5000) {
    VxeServerOptions options;
    options.control_socket = socket_;
    options.max_control_connections = max_connections;
    options.handshake_timeout_ms = handshake_ms;
    Start("", std::move(options));
  }

  Client Connect() {
    absl::StatusOr<Client> client = Client::Connect(socket_, Role::kControl);
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  static sim::ControlRequest FailAndTrigger(uint64_t file, uint32_t vm) {
    sim::ControlRequest request;
    sim::ApplyActions* apply = request.mutable_apply();
    apply->set_file_id(file);
    apply->set_vm_id(vm);
    sim::RebindFailure* fail = apply->add_action()->mutable_fail_rebinds();
    fail->set_count(1);
    fail->set_error(ERRNO_ENOMEM);
    apply->add_action()->mutable_trigger_rebind();
    return request;
  }

  TempDir dir_;
  const std::string socket_ = dir_.path() + "/control.sock";
};

TEST_F(VxeControl, StatusListsFilesByTheirKernelFileId) {
  StartWithSocket();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  Client control = Connect();
  EXPECT_THAT(control.description(), HasSubstr("tiny"));
  sim::ControlRequest request;
  request.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control.Control(request);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->status().files_size(), 1);
  EXPECT_EQ(reply->status().files(0).file_id(), 42u);
  EXPECT_EQ(reply->status().files(0).pid(), static_cast<uint32_t>(getpid()));
}

TEST_F(VxeControl, ApplyOnAKernelFilePostsVmErrAndPausesTheVm) {
  StartWithSocket();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  const uint32_t vm = CreateVm(42, kRestartable);
  Client control = Connect();
  absl::StatusOr<sim::ControlReply> applied =
      control.Control(FailAndTrigger(42, vm));
  ASSERT_TRUE(applied.ok()) << applied.status();
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  ASSERT_TRUE(control.Control(idle).ok());

  vxe_ctl_post post = NextPost();
  EXPECT_EQ(post.file_id, 42u);
  drm_xe_watch_notification_vm_err record{};
  ASSERT_EQ(post.size, sizeof(record));
  std::memcpy(&record, post.record, sizeof(record));
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error_code, -ENOMEM);

  sim::ControlRequest status;
  status.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control.Control(status);
  ASSERT_TRUE(reply.ok()) << reply.status();
  ASSERT_EQ(reply->status().files_size(), 1);
  ASSERT_EQ(reply->status().files(0).vms_size(), 1);
  EXPECT_EQ(reply->status().files(0).vms(0).state(), sim::Vm::PAUSED);
  EXPECT_EQ(reply->status().files(0).vms(0).error(), -ENOMEM);
}

TEST_F(VxeControl, ApplyOnAFileTheKernelNeverOpenedIsNotFound) {
  StartWithSocket();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  Client control = Connect();
  absl::StatusOr<sim::ControlReply> reply =
      control.Control(FailAndTrigger(1, 1));  // the device's own id is 1
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(reply.status().message(), HasSubstr("no open file 1"));
}

TEST_F(VxeControl, OtherRolesAreRefusedSayingWhereFilesAreOpened) {
  StartWithSocket();
  for (Role role : {Role::kDrmFile, Role::kPipes}) {
    absl::StatusOr<Client> client = Client::Connect(socket_, role);
    ASSERT_FALSE(client.ok());
    EXPECT_THAT(client.status().message(),
                HasSubstr("takes control connections only"));
    EXPECT_THAT(client.status().message(), HasSubstr("/dev/dri/renderD"));
  }
  Connect();  // and control still works
}

// A control client blocked in wait_released does not hold up the control
// device: the kernel's ioctl and release are served meanwhile, and the
// release ends the wait.
TEST_F(VxeControl, AWaitingControlClientDoesNotStallTheControlDevice) {
  StartWithSocket();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  absl::StatusOr<Client> idle = Client::ConnectRaw(socket_);  // never Hello
  ASSERT_TRUE(idle.ok()) << idle.status();
  Client waiter = Connect();
  absl::Status waited;
  std::thread wait_thread([&] {
    sim::ControlRequest request;
    request.mutable_wait_released()->set_file_id(42);
    request.mutable_wait_released()->set_timeout_ms(60000);
    waited = waiter.Control(request).status();
  });
  EXPECT_EQ(CreateVm(42, kRestartable), 1u);
  vxe_ctl_event release{};
  release.type = VXE_CTL_EVENT_RELEASE;
  release.file_id = 42;
  Send(release);
  wait_thread.join();
  EXPECT_TRUE(waited.ok()) << waited;
}

TEST_F(VxeControl, ConnectionsOverTheLimitAreRefusedWithEusers) {
  StartWithSocket(/*max_connections=*/1);
  Client first = Connect();
  absl::StatusOr<Client> second = Client::Connect(socket_, Role::kControl);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(),
              HasSubstr("at most 1 control connections"));
}

TEST_F(VxeControl, AConnectionSilentBeforeItsHelloIsDropped) {
  StartWithSocket(4, /*handshake_ms=*/50);
  absl::StatusOr<Client> silent = Client::ConnectRaw(socket_);
  ASSERT_TRUE(silent.ok()) << silent.status();
  absl::StatusOr<Message> error = silent->Receive();
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->header.type, static_cast<uint16_t>(MessageType::kError));
  EXPECT_EQ(error->error.error, -ETIMEDOUT);
  EXPECT_EQ(silent->Receive().status().code(), absl::StatusCode::kOutOfRange);
}

// However the wait and the shutdown interleave (the release on Serve's
// return answers it, or the stop cancels it, or the connection closes),
// destroying the daemon never hangs on a waiting client.
TEST_F(VxeControl, DestroyingTheDaemonEndsAWaitAndRemovesTheSocket) {
  StartWithSocket();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  Client waiter = Connect();
  sim::ControlRequest request;
  request.mutable_wait_released()->set_file_id(42);
  request.mutable_wait_released()->set_timeout_ms(60000);
  ASSERT_TRUE(
      waiter
          .SendDatagram(EncodeControl(waiter.next_seq(), MessageType::kControl,
                                      request.SerializeAsString()))
          .ok());
  Stop();
  server_.reset();
  absl::StatusOr<Message> reply = waiter.Receive();
  if (reply.ok()) {
    sim::ControlReply control;
    ASSERT_TRUE(control.ParseFromArray(
        reply->payload.data(), static_cast<int>(reply->payload.size())));
    EXPECT_THAT(
        control.code(),
        ::testing::AnyOf(static_cast<int>(absl::StatusCode::kOk),
                         static_cast<int>(absl::StatusCode::kCancelled)))
        << control.message();
  } else {
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kOutOfRange)
        << reply.status();
  }
  EXPECT_NE(::access(socket_.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace xehil::simd
