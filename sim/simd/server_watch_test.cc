// Notification pipes registered with the daemon: watch subscription by pipe
// id, VM_ERR records from control faults and script rules, removal records
// when a DRM connection closes, and the watch-queue ioctls' errnos.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/script.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)
using ::testing::HasSubstr;

class ServerWatch : public ServerTest {};

constexpr size_t kVmErrBytes = sizeof(drm_xe_watch_notification_vm_err);

TEST_F(ServerWatch, ControlFaultPostsVmErrToARegisteredPipe) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 5), 0);

  Apply(file->file_id(), vm, FailRebinds(-ENOSPC));
  Apply(file->file_id(), vm, TriggerRebind());
  std::vector<uint8_t> record = ReadBytes(pipe->read_end.get(), kVmErrBytes);
  ASSERT_EQ(record.size(), kVmErrBytes);
  VmErrFields err = DecodeVmErr(record.data());
  EXPECT_EQ(err.type, static_cast<uint32_t>(WATCH_TYPE_DRM_XE_NOTIFY));
  EXPECT_EQ(err.vm_id, vm);
  EXPECT_EQ(err.error, -ENOSPC);
  EXPECT_EQ((err.info & WATCH_INFO_ID) >> 8, 5u);

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.files_size(), 1);
  EXPECT_EQ(status.files(0).watches(), 1u);
  ASSERT_EQ(status.files(0).vms_size(), 1);
  EXPECT_EQ(status.files(0).vms(0).state(), sim::Vm::PAUSED);
  EXPECT_EQ(status.files(0).vms(0).error(), -ENOSPC);
  EXPECT_EQ(status.counters().records_posted(), 1u);
  ASSERT_EQ(status.pipes_size(), 1);
  EXPECT_EQ(status.pipes(0).posted(), 1u);
  EXPECT_EQ(status.pipes(0).capacity_notes(), 256u);

  EXPECT_EQ(Restart(*file, vm), 0);
  EXPECT_EQ(Restart(*file, vm), -EALREADY);
}

// The kernel's sequence for 40 errors into a one-page ring, through a
// RemoteBackend pipe that the daemon writes into.
TEST_F(ServerWatch, OverflowedRingOwesTheLossRecordToTheNextRead) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  for (int i = 0; i < 40; ++i) {
    uint32_t vm = 0;
    ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  }
  NotificationPipeOptions options;
  options.ring_notes = 1;
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe(options);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 1), 0);
  Apply(file->file_id(), 0, FailRebinds(-ENOMEM));
  Apply(file->file_id(), 0, TriggerRebind());
  sim::ControlRequest idle;
  idle.mutable_wait_idle();
  MustControl(idle);
  const int fd = pipe->read_end.get();
  ASSERT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);

  std::vector<uint8_t> buf(64 * 1024);
  EXPECT_EQ(ReadNotificationPipe(*pipe, buf.data(), buf.size()),
            static_cast<ssize_t>(32 * kVmErrBytes));
  pollfd p{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  EXPECT_EQ(NotificationBytesQueued(*pipe), 0);
  ASSERT_EQ(ReadNotificationPipe(*pipe, buf.data(), buf.size()), 8);
  watch_notification loss;
  std::memcpy(&loss, buf.data(), sizeof(loss));
  EXPECT_EQ(loss.type, static_cast<uint32_t>(WATCH_TYPE_META));
  EXPECT_EQ(loss.subtype, static_cast<uint32_t>(WATCH_META_LOSS_NOTIFICATION));
  EXPECT_EQ(ReadNotificationPipe(*pipe, buf.data(), buf.size()), -EAGAIN);
}

TEST_F(ServerWatch, UnknownPipeIsEinvalAndTheSamePipeTwiceIsEbusy) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd plain_read(fds[0]), plain_write(fds[1]);
  EXPECT_EQ(sim::testing::Watch(*file, plain_read.get(), 1), -EINVAL)
      << "a pipe the daemon never saw is not a notification pipe";

  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok());
  EXPECT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 256), -EINVAL);
  EXPECT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 1), 0);
  EXPECT_EQ(sim::testing::Watch(*file, pipe->write_end.get(), 2), -EBUSY);

  // The same pipe on a second file is a second watch.
  Client raw = Connect(Role::kDrmFile);
  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(file->PipeId(pipe->read_end.get()));
  watch.watch_id = 3;
  absl::StatusOr<IoctlReply> reply =
      raw.Ioctl(MakeIoctl(DRM_IOCTL_XE_WATCH_QUEUE, watch));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->result, 0);
  EXPECT_EQ(ReplyArg<drm_xe_watch_queue>(*reply).fd, watch.fd)
      << "the pipe id comes back, not the daemon's descriptor";
  EXPECT_EQ(server_->device()->counters().Ioctls("WATCH_QUEUE", -EINVAL), 2u);
  EXPECT_EQ(server_->device()->counters().Ioctls("WATCH_QUEUE", -EBUSY), 1u);
}

TEST_F(ServerWatch, ClosingTheDrmConnectionPostsRemovalThenEof) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 4), 0);
  pipe->write_end.reset();
  const uint64_t id = file->file_id();
  file.reset();  // closes the DRM and pipes connections
  // Until the daemon released the file the pipe may read EOF before the
  // removal, as a kernel's does (no write end is open).
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_file_id(id);
  MustControl(wait);

  std::vector<uint8_t> stream;
  EXPECT_TRUE(ReadToEof(pipe->read_end.get(), &stream));
  ASSERT_EQ(stream.size(), 8u);
  watch_notification removal;
  std::memcpy(&removal, stream.data(), sizeof(removal));
  EXPECT_EQ(removal.type, static_cast<uint32_t>(WATCH_TYPE_META));
  EXPECT_EQ(removal.subtype,
            static_cast<uint32_t>(WATCH_META_REMOVAL_NOTIFICATION));
  EXPECT_EQ(removal.info, 8u | (4u << 8));

  sim::DeviceStatus status = Status();
  EXPECT_EQ(status.files_size(), 0);
  EXPECT_EQ(status.pipes_size(), 0);
  EXPECT_EQ(status.counters().removals_posted(), 1u);
  EXPECT_EQ(status.daemon().files_released(), 1u);
  EXPECT_FALSE(server_->device()->GetVm(id, vm).ok());
  EXPECT_THAT(LogLines(), ::testing::Contains(HasSubstr("released")));
}

TEST_F(ServerWatch, PipeIoctlsGiveTheSimulatorsErrnos) {
  Client pipes = Connect(Role::kPipes);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  absl::StatusOr<Result> registered = pipes.RegisterPipe(write_end.get());
  ASSERT_TRUE(registered.ok());
  ASSERT_EQ(registered->result, 0);
  const uint64_t id = registered->value;
  EXPECT_GT(id, 0u);

  auto ioctl = [&](uint64_t pipe, uint64_t request, uint64_t value,
                   std::vector<uint8_t> filter = {}) {
    absl::StatusOr<Result> result =
        pipes.PipeIoctl({pipe, request, value, std::move(filter)});
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->result : 1;
  };
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_SIZE, 0), -EINVAL);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_SIZE, 513), -EINVAL);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_SIZE, 1), 0);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_SIZE, 64), -EBUSY);
  EXPECT_EQ(ioctl(id + 1000, IOC_WATCH_QUEUE_SET_SIZE, 1), -EBADF);
  EXPECT_EQ(ioctl(id, 0x1234, 0), -ENOTTY);

  // The ioctl's layout: header (nr_filters, __reserved), then the entries.
  watch_notification_type_filter entry{};
  entry.type = WATCH_TYPE_DRM_XE_NOTIFY;
  entry.subtype_filter[0] = 1;
  auto filter = [&](uint32_t nr_filters) {
    std::vector<uint8_t> bytes(sizeof(watch_notification_filter) +
                               sizeof(entry));
    std::memcpy(bytes.data(), &nr_filters, sizeof(nr_filters));
    std::memcpy(bytes.data() + sizeof(watch_notification_filter), &entry,
                sizeof(entry));
    return bytes;
  };
  std::vector<uint8_t> bytes = filter(1);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0, bytes), 0);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0,
                  {bytes.begin(), bytes.end() - 1}),
            -EFAULT);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0, {1, 2, 3}), -EFAULT);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0, filter(17)), -EINVAL);
  entry.info_mask = WATCH_INFO_LENGTH;
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0, filter(1)), -EINVAL);
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_FILTER, 0), 0) << "NULL: unfiltered";

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.pipes_size(), 1);
  EXPECT_EQ(status.pipes(0).pipe_id(), id);
  EXPECT_EQ(status.pipes(0).capacity_notes(), 32u);
  EXPECT_EQ(status.pipes(0).pid(), static_cast<uint32_t>(::getpid()));

  ASSERT_TRUE(pipes.ReleasePipe(id).ok());
  EXPECT_EQ(ioctl(id, IOC_WATCH_QUEUE_SET_SIZE, 1), -EBADF);
}

size_t OpenDescriptors() {
  size_t count = 0;
  for (int fd = 0; fd < 1024; ++fd) count += ::fcntl(fd, F_GETFD) >= 0;
  return count;
}

TEST_F(ServerWatch, RegisterRejectsNonPipesAndWrongDescriptorCounts) {
  Client pipes = Connect(Role::kPipes);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  const size_t before = OpenDescriptors();

  auto reg = [&](const std::vector<int>& send) {
    EXPECT_TRUE(
        pipes.SendDatagram(EncodeRegisterPipe(pipes.next_seq()), send).ok());
    absl::StatusOr<Message> reply = pipes.Receive(10000);
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) return 1;
    EXPECT_EQ(reply->header.type, static_cast<uint16_t>(MessageType::kResult));
    return reply->result.result;
  };
  EXPECT_EQ(reg({}), -EINVAL);
  EXPECT_EQ(reg({write_end.get(), write_end.get()}), -EINVAL);
  EXPECT_EQ(reg({null.get()}), -EINVAL);
  EXPECT_EQ(reg({read_end.get()}), -EINVAL);
  EXPECT_EQ(OpenDescriptors(), before)
      << "the daemon closed every descriptor it refused";
  EXPECT_EQ(reg({write_end.get()}), 0);
  EXPECT_EQ(Status().pipes_size(), 1);
}

TEST_F(ServerWatch, OneConnectionRegistersAtMost256Pipes) {
  Client pipes = Connect(Role::kPipes);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  uint64_t first = 0;
  for (int i = 0; i < 256; ++i) {
    absl::StatusOr<Result> registered = pipes.RegisterPipe(write_end.get());
    ASSERT_TRUE(registered.ok());
    ASSERT_EQ(registered->result, 0) << i;
    if (i == 0) first = registered->value;
  }
  EXPECT_EQ(pipes.RegisterPipe(write_end.get())->result, -EMFILE);
  // Another connection has its own allowance.
  Client other = Connect(Role::kPipes);
  EXPECT_EQ(other.RegisterPipe(write_end.get())->result, 0);
  ASSERT_TRUE(pipes.ReleasePipe(first).ok());
  EXPECT_EQ(pipes.RegisterPipe(write_end.get())->result, 0);
}

class ScriptedWatch : public ServerTest {
 protected:
  ServerOptions Options() override {
    ServerOptions options = ServerTest::Options();
    absl::StatusOr<sim::SimdScript> script = ParseScriptText(
        R"pb(
          rule {
            name: "enomem on watch"
            program: "victim"
            when { watch_subscribed { nth: 1 } }
            action { fail_rebinds { count: 1 error: ERRNO_ENOMEM } }
            action { trigger_rebind {} }
            times: 1
          }
        )pb",
        "inline");
    EXPECT_TRUE(script.ok()) << script.status();
    options.script = *script;
    return options;
  }
};

TEST_F(ScriptedWatch, RuleDeliversEnomemToTheWatchOfTheNamedProgram) {
  // Another program's file is not touched.
  std::unique_ptr<RemoteBackend> bystander = OpenRemote("bystander");
  uint32_t bystander_vm = 0;
  ASSERT_EQ(VmCreate(*bystander, kRestartable, &bystander_vm), 0);
  absl::StatusOr<NotificationPipe> bystander_pipe =
      bystander->OpenNotificationPipe({});
  ASSERT_TRUE(bystander_pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*bystander, bystander_pipe->read_end.get(), 1),
            0);

  std::unique_ptr<RemoteBackend> file = OpenRemote("/usr/bin/victim");
  uint32_t lr = 0, vm = 0;
  ASSERT_EQ(VmCreate(*file, kLr, &lr), 0);
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 2), 0);

  std::vector<uint8_t> record = ReadBytes(pipe->read_end.get(), kVmErrBytes);
  ASSERT_EQ(record.size(), kVmErrBytes);
  EXPECT_EQ(DecodeVmErr(record.data()).vm_id, vm);
  EXPECT_EQ(DecodeVmErr(record.data()).error, -ENOMEM);
  EXPECT_EQ(server_->device()->GetVm(file->file_id(), lr)->state,
            sim::VmState::kHealthy)
      << "only restartable VMs are targeted";
  EXPECT_EQ(server_->device()->GetVm(bystander->file_id(), bystander_vm)->state,
            sim::VmState::kHealthy);

  // times: 1 — a second victim is left alone.
  std::unique_ptr<RemoteBackend> second = OpenRemote("victim");
  uint32_t second_vm = 0;
  ASSERT_EQ(VmCreate(*second, kRestartable, &second_vm), 0);
  absl::StatusOr<NotificationPipe> second_pipe =
      second->OpenNotificationPipe({});
  ASSERT_TRUE(second_pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*second, second_pipe->read_end.get(), 1), 0);
  server_->device()->WaitIdle();
  EXPECT_EQ(server_->device()->GetVm(second->file_id(), second_vm)->state,
            sim::VmState::kHealthy);

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.rules_size(), 1);
  EXPECT_EQ(status.rules(0).name(), "rule 'enomem on watch'");
  EXPECT_EQ(status.rules(0).fired(), 1u);
  EXPECT_EQ(status.rules(0).errors(), 0u);
  EXPECT_THAT(LogLines(), ::testing::Contains(HasSubstr("fired")));
}

TEST_F(ServerWatch, ReleasedPipeKeepsDeliveringToItsWatch) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &vm), 0);
  Client pipes = Connect(Role::kPipes);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  absl::StatusOr<Result> registered = pipes.RegisterPipe(write_end.get());
  ASSERT_TRUE(registered.ok() && registered->result == 0);
  ASSERT_EQ(
      pipes.PipeIoctl({registered->value, IOC_WATCH_QUEUE_SET_SIZE, 8, {}})
          ->result,
      0);
  Client drm = Connect(Role::kDrmFile);
  drm_xe_vm_create create{};
  create.flags = kRestartable;
  absl::StatusOr<IoctlReply> created =
      drm.Ioctl(MakeIoctl(DRM_IOCTL_XE_VM_CREATE, create));
  ASSERT_TRUE(created.ok() && created->result == 0);
  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(registered->value);
  ASSERT_EQ(drm.Ioctl(MakeIoctl(DRM_IOCTL_XE_WATCH_QUEUE, watch))->result, 0);
  // Drop the registry's reference; the next reply on the same connection
  // comes after the release.
  ASSERT_TRUE(pipes.ReleasePipe(registered->value).ok());
  EXPECT_EQ(
      pipes.PipeIoctl({registered->value, IOC_WATCH_QUEUE_SET_SIZE, 8, {}})
          ->result,
      -EBADF);
  EXPECT_EQ(Status().pipes_size(), 0);

  const uint32_t drm_vm = ReplyArg<drm_xe_vm_create>(*created).vm_id;
  Apply(drm.file_id(), drm_vm, FailRebinds(-ENOMEM));
  Apply(drm.file_id(), drm_vm, TriggerRebind());
  std::vector<uint8_t> record = ReadBytes(read_end.get(), kVmErrBytes);
  ASSERT_EQ(record.size(), kVmErrBytes);
  EXPECT_EQ(DecodeVmErr(record.data()).error, -ENOMEM);
}

}  // namespace
}  // namespace xehil::simd
