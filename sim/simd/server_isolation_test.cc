// Clients against each other: a pipe is usable only by the connection (for
// its ioctls and release) and the process (for WATCH_QUEUE) that registered
// it; silent connections cannot hold slots; a control reply too large for
// one message still says what happened.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)
using ::testing::Contains;
using ::testing::HasSubstr;

class ServerIsolation : public ServerTest {};

TEST_F(ServerIsolation, AnotherConnectionCannotSizeFilterOrReleaseAPipe) {
  Client victim = Connect(Role::kPipes, "victim");
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  absl::StatusOr<Result> registered = victim.RegisterPipe(write_end.get());
  ASSERT_TRUE(registered.ok() && registered->result == 0);
  const uint64_t id = registered->value;
  ASSERT_EQ(victim.PipeIoctl({id, IOC_WATCH_QUEUE_SET_SIZE, 8, {}})->result, 0);
  const uint32_t capacity = Status().pipes(0).capacity_notes();

  Client other = Connect(Role::kPipes, "other");
  EXPECT_EQ(other.PipeIoctl({id, IOC_WATCH_QUEUE_SET_SIZE, 1, {}})->result,
            -EBADF);
  EXPECT_EQ(other.PipeIoctl({id, IOC_WATCH_QUEUE_SET_FILTER, 0, {}})->result,
            -EBADF);
  ASSERT_TRUE(other.ReleasePipe(id).ok());
  // Answered after the release (one connection, in order).
  EXPECT_EQ(other.PipeIoctl({id, IOC_WATCH_QUEUE_SET_SIZE, 1, {}})->result,
            -EBADF);

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.pipes_size(), 1) << "the release must not have happened";
  EXPECT_EQ(status.pipes(0).capacity_notes(), capacity);
  EXPECT_EQ(victim.PipeIoctl({id, IOC_WATCH_QUEUE_SET_FILTER, 0, {}})->result,
            0);
}

TEST_F(ServerIsolation, AnotherProcessCannotTouchOrSubscribeAPipe) {
  std::unique_ptr<RemoteBackend> victim = OpenRemote("victim");
  absl::StatusOr<NotificationPipe> pipe = victim->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  const uint64_t id = victim->PipeId(pipe->read_end.get());
  ASSERT_NE(id, 0u);
  const uint32_t capacity = Status().pipes(0).capacity_notes();

  Child attacker =
      Spawn({"sim/simd/simd_test_client", "attack", socket_, absl::StrCat(id)});
  ASSERT_GT(attacker.pid, 0);
  EXPECT_EQ(ReadLine(attacker.out.get()),
            absl::StrCat("set_size ", -EBADF, " set_filter ", -EBADF, " watch ",
                         -EBADF));
  const int exit_status = WaitFor(attacker.pid);
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0)
      << ReadLine(attacker.err.get());
  // The attacker's file is released once its process is gone: had the
  // subscription worked, that would have posted a removal into our pipe.
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_pid(static_cast<uint32_t>(attacker.pid));
  MustControl(wait);

  sim::DeviceStatus status = Status();
  ASSERT_EQ(status.pipes_size(), 1);
  EXPECT_EQ(status.pipes(0).capacity_notes(), capacity);
  EXPECT_EQ(status.counters().removals_posted(), 0u);
  int queued = -1;
  ASSERT_EQ(::ioctl(pipe->read_end.get(), FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 0);
  EXPECT_EQ(server_->device()->counters().Ioctls("WATCH_QUEUE", -EBADF), 1u);
  // The owner still subscribes it.
  EXPECT_EQ(sim::testing::Watch(*victim, pipe->read_end.get(), 1), 0);
}

class HandshakeDeadline : public ServerTest {
 protected:
  ServerOptions Options() override {
    ServerOptions options = ServerTest::Options();
    options.handshake_timeout_ms = 50;
    return options;
  }
};

TEST_F(HandshakeDeadline, SilentConnectionIsDroppedAndLogged) {
  absl::StatusOr<Client> silent = Client::ConnectRaw(socket_);
  ASSERT_TRUE(silent.ok());
  absl::StatusOr<Message> error = silent->Receive(10000);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->header.type, static_cast<uint16_t>(MessageType::kError));
  EXPECT_EQ(error->error.error, -ETIMEDOUT);
  EXPECT_EQ(silent->Receive(10000).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_THAT(LogLines(),
              Contains(HasSubstr(absl::StrCat(
                  "(pid ", ::getpid(), "): no Hello within 50 ms; dropped"))));
  EXPECT_EQ(Status().daemon().connections(), 1u) << "only the status query";
}

class IdleFlood : public ServerTest {
 protected:
  ServerOptions Options() override {
    ServerOptions options = ServerTest::Options();
    options.max_clients = 2;
    options.handshake_timeout_ms = 600000;  // only the displacement acts
    return options;
  }
};

TEST_F(IdleFlood, IdleConnectionsDoNotShutOutAClientThatSaysHello) {
  absl::StatusOr<Client> idle1 = Client::ConnectRaw(socket_);
  absl::StatusOr<Client> idle2 = Client::ConnectRaw(socket_);
  ASSERT_TRUE(idle1.ok() && idle2.ok());
  absl::StatusOr<Client> healthy =
      Client::Connect(socket_, Role::kDrmFile, "healthy");
  ASSERT_TRUE(healthy.ok()) << healthy.status();

  // The oldest idle connection made room: told why, then EOF.
  absl::StatusOr<Message> error = idle1->Receive(10000);
  ASSERT_TRUE(error.ok()) << error.status();
  EXPECT_EQ(error->header.type, static_cast<uint16_t>(MessageType::kError));
  EXPECT_THAT(error->error.message, HasSubstr("dropped to make room"));
  EXPECT_EQ(idle1->Receive(10000).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_THAT(LogLines(),
              Contains(HasSubstr(absl::StrCat(
                  "connection 1 (pid ", ::getpid(),
                  "): no Hello while all 2 connections were taken"))));

  // Two served: the healthy file and idle2 (still waiting). A third
  // connection that says Hello displaces idle2 in turn.
  absl::StatusOr<Client> control =
      Client::Connect(socket_, Role::kControl, "control");
  ASSERT_TRUE(control.ok()) << control.status();
  sim::ControlRequest status;
  status.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control->Control(status);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status().daemon().connections(), 2u);
  EXPECT_EQ(reply->status().files_size(), 1);
  EXPECT_EQ(idle2->Receive(10000)->header.type,
            static_cast<uint16_t>(MessageType::kError));
}

TEST_F(ServerIsolation, OversizedAddRulesReplySaysNoRuleWasInstalled) {
  sim::ControlRequest add;
  // Each empty rule yields two error lines: far more than one message.
  for (int i = 0; i < 4000; ++i) add.mutable_add_rules()->add_rule();
  Client control = Connect(Role::kControl);
  absl::StatusOr<sim::ControlReply> reply = control.Control(add);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(reply.status().message()),
              ::testing::StartsWith("no rule installed: "));
  EXPECT_THAT(std::string(reply.status().message()),
              HasSubstr("more bytes cut to fit"));
  EXPECT_EQ(Status().rules_size(), 0);

  sim::ControlRequest good;
  sim::Rule* rule = good.mutable_add_rules()->add_rule();
  rule->mutable_when()->mutable_vm_created();
  *rule->add_action() = TriggerRebind();
  reply = control.Control(good);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->message(), "installed 1 rules");
}

}  // namespace
}  // namespace xehil::simd
