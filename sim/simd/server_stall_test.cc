// A hostile client must never block the daemon: it clears O_NONBLOCK on its
// registered pipe (the flag lives on the open file description the daemon
// shares), shrinks and fills the pipe, then has a VM error posted into it.
// Every other client's requests must still be answered.
//
// The daemon writes through an open file description of its own
// (NotificationQueue::Adopt reopens the pipe), so the client's flags cannot
// make its writes block; before that, the status request below timed out.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)

class ServerStall : public ServerTest {};

TEST_F(ServerStall, ABlockingPipeNeverStallsOtherClients) {
  Client pipes = Connect(Role::kPipes, "hostile");
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  absl::StatusOr<Result> registered = pipes.RegisterPipe(write_end.get());
  ASSERT_TRUE(registered.ok() && registered->result == 0);
  const uint64_t id = registered->value;
  ASSERT_EQ(pipes.PipeIoctl({id, IOC_WATCH_QUEUE_SET_SIZE, 1, {}})->result, 0);

  // Fill the shrunk pipe without blocking ourselves, then make the client's
  // description blocking (with a shared description the daemon's writes
  // would now block).
  ASSERT_EQ(::fcntl(write_end.get(), F_SETFL,
                    ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK),
            0);
  ASSERT_GE(::fcntl(write_end.get(), F_SETPIPE_SZ, 4096), 0);
  const std::vector<char> junk(4096, 'x');
  while (::write(write_end.get(), junk.data(), junk.size()) > 0) {
  }
  ASSERT_EQ(errno, EAGAIN);
  const int flags = ::fcntl(write_end.get(), F_GETFL);
  ASSERT_EQ(::fcntl(write_end.get(), F_SETFL, flags & ~O_NONBLOCK), 0);

  Client drm = Connect(Role::kDrmFile, "hostile");
  drm_xe_vm_create create{};
  create.flags = kRestartable;
  absl::StatusOr<IoctlReply> created =
      drm.Ioctl(MakeIoctl(DRM_IOCTL_XE_VM_CREATE, create));
  ASSERT_TRUE(created.ok() && created->result == 0);
  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(id);
  ASSERT_EQ(drm.Ioctl(MakeIoctl(DRM_IOCTL_XE_WATCH_QUEUE, watch))->result, 0);
  const uint32_t drm_vm = ReplyArg<drm_xe_vm_create>(*created).vm_id;

  // The VM error goes into the full, now blocking pipe. Raw requests with a
  // deadline: with the bug these would wait for as long as the pipe is full.
  sim::ControlRequest trigger;
  trigger.mutable_apply()->set_file_id(drm.file_id());
  trigger.mutable_apply()->set_vm_id(drm_vm);
  *trigger.mutable_apply()->add_action() = FailRebinds(-ENOMEM);
  *trigger.mutable_apply()->add_action() = TriggerRebind();
  absl::StatusOr<Client> control =
      Client::Connect(socket_, Role::kControl, "bystander");
  ASSERT_TRUE(control.ok());
  ASSERT_TRUE(control
                  ->SendDatagram(EncodeControl(1, MessageType::kControl,
                                               trigger.SerializeAsString()))
                  .ok());
  absl::StatusOr<Message> triggered = control->Receive(5000);
  // A new client: its Hello and a status request, each with a deadline.
  sim::ControlRequest status;
  status.mutable_status();
  absl::StatusOr<Client> bystander = Client::ConnectRaw(socket_);
  absl::StatusOr<Message> answered = absl::UnknownError("not sent");
  if (bystander.ok() &&
      bystander->SendDatagram(EncodeHello(1, {Role::kControl, 0, "b"})).ok()) {
    answered = bystander->Receive(5000);
    if (answered.ok() &&
        bystander
            ->SendDatagram(EncodeControl(2, MessageType::kControl,
                                         status.SerializeAsString()))
            .ok()) {
      answered = bystander->Receive(5000);
    }
  }
  // Unstick the daemon whatever happened, so that the fixture can stop it.
  ASSERT_EQ(::fcntl(read_end.get(), F_SETFL, O_NONBLOCK), 0);
  std::vector<char> sink(65536);
  while (::read(read_end.get(), sink.data(), sink.size()) > 0) {
  }

  EXPECT_TRUE(triggered.ok())
      << "the trigger was not answered in 5 s: " << triggered.status();
  ASSERT_TRUE(bystander.ok()) << bystander.status();
  EXPECT_TRUE(answered.ok())
      << "another client's status was not answered in 5 s: "
      << answered.status();
}

}  // namespace
}  // namespace xehil::simd
