// The daemon against hostile or dying clients: malformed messages of every
// kind, descriptors where none belong, the connection cap, a SIGKILLed
// client process, Stop() with clients attached, stale and live sockets.
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using namespace ::xehil::sim::testing;   // NOLINT(build/namespaces)
using namespace ::xehil::simd::testing;  // NOLINT(build/namespaces)
using ::testing::HasSubstr;

class ServerRobustness : public ServerTest {};

std::vector<uint8_t> WithHeader(std::vector<uint8_t> message,
                                void (*mutate)(Header*)) {
  Header header;
  std::memcpy(&header, message.data(), sizeof(header));
  mutate(&header);
  std::memcpy(message.data(), &header, sizeof(header));
  return message;
}

TEST_F(ServerRobustness, MalformedMessagesCloseOnlyTheirConnection) {
  std::unique_ptr<RemoteBackend> survivor = OpenRemote();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*survivor, kRestartable, &vm), 0);

  const std::vector<uint8_t> hello = EncodeHello(1, {Role::kDrmFile, 1, "x"});
  IoctlRequest outside;
  outside.request = DRM_IOCTL_XE_VM_CREATE;
  outside.arg.resize(32);
  // A buffer whose pointer field would sit past the argument's end.
  outside.buffers.push_back({0, kBufferOut, std::vector<uint8_t>(8)});
  std::vector<uint8_t> bad_buffer = EncodeIoctl(2, outside);
  const uint32_t offset = 30;
  std::memcpy(bad_buffer.data() + sizeof(Header) + 16 + 32, &offset, 4);

  struct Case {
    const char* name;
    bool hello_first;  // send a valid DRM-file Hello first
    std::vector<uint8_t> bytes;
  };
  std::vector<Case> cases = {
      {"empty datagram", false, {}},
      {"short header", false, {hello.begin(), hello.begin() + 10}},
      {"bad magic", false,
       WithHeader(hello, [](Header* h) { h->magic = 0x12345678; })},
      {"bad version", false,
       WithHeader(hello, [](Header* h) { h->version = 9; })},
      {"unknown type", false,
       WithHeader(hello, [](Header* h) { h->type = 77; })},
      {"truncated body", false, {hello.begin(), hello.end() - 1}},
      {"trailing bytes", false,
       [&] {
         std::vector<uint8_t> b = hello;
         b.push_back(0);
         return b;
       }()},
      {"oversized", false, std::vector<uint8_t>(kMaxMessageBytes + 1, 0)},
      {"ioctl before hello", false,
       EncodeIoctl(1, MakeIoctl(DRM_IOCTL_XE_VM_CREATE, drm_xe_vm_create{}))},
      {"unknown role", false, EncodeHello(1, {static_cast<Role>(9), 1, ""})},
      {"second hello", true, hello},
      {"pipe message on a DRM file", true, EncodeRegisterPipe(2)},
      {"control on a DRM file", true,
       EncodeControl(2, MessageType::kControl, "")},
      {"daemon-only message", true, EncodeResult(2, {0, 0})},
      {"buffer outside the argument", true, bad_buffer},
      {"out buffers too large", true,
       [] {
         IoctlRequest big;
         big.request = DRM_IOCTL_XE_DEVICE_QUERY;
         big.arg.resize(sizeof(drm_xe_device_query));
         for (int i = 0; i < 2; ++i) {
           big.buffers.push_back(
               {16, kBufferOut, std::vector<uint8_t>(kMaxMessageBytes - 100)});
         }
         return EncodeIoctl(2, big);
       }()},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Client> client = Client::ConnectRaw(socket_);
    ASSERT_TRUE(client.ok());
    if (c.hello_first) {
      ASSERT_TRUE(client->SendDatagram(hello).ok());
      ASSERT_TRUE(client->Receive(10000).ok());
    }
    ExpectRejected(*client, c.bytes);
  }
  // Control and pipes roles reject each other's messages too.
  Client control = Connect(Role::kControl);
  ExpectRejected(control, EncodeReleasePipe(5, 1));
  Client pipes = Connect(Role::kPipes);
  ExpectRejected(pipes, EncodeIoctl(5, MakeIoctl(DRM_IOCTL_XE_VM_CREATE,
                                                 drm_xe_vm_create{})));

  // The daemon and the first file carry on.
  uint32_t second = 0;
  EXPECT_EQ(VmCreate(*survivor, kRestartable, &second), 0);
  sim::DeviceStatus status = Status();
  EXPECT_EQ(status.daemon().protocol_errors(), cases.size() + 2);
  EXPECT_EQ(status.files_size(), 1) << "rejected DRM files were released";
  EXPECT_EQ(status.daemon().files_released(), 6u);
}

TEST_F(ServerRobustness, DescriptorsOnOtherMessagesAreRejectedAndClosed) {
  Client file = Connect(Role::kDrmFile);
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  ExpectRejected(file,
                 EncodeIoctl(file.next_seq(), MakeIoctl(DRM_IOCTL_XE_VM_CREATE,
                                                        drm_xe_vm_create{})),
                 {write_end.get()});
  write_end.reset();
  // EOF proves the daemon closed the copy it received.
  std::vector<uint8_t> data;
  EXPECT_TRUE(ReadToEof(read_end.get(), &data));
}

TEST_F(ServerRobustness, BadControlPayloadIsAnErrorReplyNotAViolation) {
  Client control = Connect(Role::kControl);
  ASSERT_TRUE(control
                  .SendDatagram(EncodeControl(7, MessageType::kControl,
                                              std::string("\xff\xff\xff", 3)))
                  .ok());
  absl::StatusOr<Message> reply = control.Receive(10000);
  ASSERT_TRUE(reply.ok());
  ASSERT_EQ(reply->header.type,
            static_cast<uint16_t>(MessageType::kControlReply));
  sim::ControlReply parsed;
  ASSERT_TRUE(parsed.ParseFromArray(reply->payload.data(),
                                    static_cast<int>(reply->payload.size())));
  EXPECT_EQ(parsed.code(),
            static_cast<int>(absl::StatusCode::kInvalidArgument));
  sim::ControlRequest empty;
  EXPECT_EQ(control.Control(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
  sim::ControlRequest status;
  status.mutable_status();
  EXPECT_TRUE(control.Control(status).ok());
}

class CappedServer : public ServerTest {
 protected:
  ServerOptions Options() override {
    ServerOptions options = ServerTest::Options();
    options.max_clients = 2;
    return options;
  }
};

TEST_F(CappedServer, ConnectionsOverTheCapAreRefusedUntilOneLeaves) {
  std::optional<Client> first = Connect(Role::kDrmFile);
  Client control = Connect(Role::kControl);
  absl::StatusOr<Client> refused = Client::Connect(socket_, Role::kDrmFile);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("at most 2"));

  const uint64_t file = first->file_id();
  first.reset();
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_file_id(file);
  ASSERT_TRUE(control.Control(wait).ok());
  absl::StatusOr<Client> admitted = Client::Connect(socket_, Role::kDrmFile);
  EXPECT_TRUE(admitted.ok()) << admitted.status();

  sim::ControlRequest status;
  status.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = control.Control(status);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status().daemon().connections_refused(), 1u);
  EXPECT_EQ(reply->status().daemon().connections(), 2u);
}

TEST_F(ServerRobustness, SigkilledClientLeavesOnlyAReleasedFile) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  Child child = Spawn({"sim/simd/simd_test_client", socket_}, write_end.get());
  ASSERT_GT(child.pid, 0);
  write_end.reset();  // only the child (and then the daemon) hold it
  const std::string ready = ReadLine(child.out.get());
  std::vector<std::string> words = absl::StrSplit(ready, ' ');
  ASSERT_EQ(words.size(), 4u) << "child said '" << ready << "'";
  ASSERT_EQ(words[0], "ready");
  uint64_t file_id = 0;
  uint32_t vm = 0;
  ASSERT_TRUE(absl::SimpleAtoi(words[1], &file_id));
  ASSERT_TRUE(absl::SimpleAtoi(words[2], &vm));

  sim::DeviceStatus before = Status();
  ASSERT_EQ(before.files_size(), 1);
  EXPECT_EQ(before.files(0).pid(), static_cast<uint32_t>(child.pid));
  EXPECT_EQ(before.files(0).program(), "victim");
  EXPECT_EQ(before.files(0).vms_size(), 1);
  EXPECT_EQ(before.pipes_size(), 1);

  ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
  const int status = WaitFor(child.pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  // Once the daemon released the file: the removal record, then EOF (no
  // write end is left; before the release the pipe may read EOF early, as a
  // kernel's does, since the kernel is not a writer).
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_pid(static_cast<uint32_t>(child.pid));
  MustControl(wait);
  std::vector<uint8_t> stream;
  EXPECT_TRUE(ReadToEof(read_end.get(), &stream));
  ASSERT_EQ(stream.size(), 8u);
  watch_notification removal;
  std::memcpy(&removal, stream.data(), sizeof(removal));
  EXPECT_EQ(removal.subtype,
            static_cast<uint32_t>(WATCH_META_REMOVAL_NOTIFICATION));
  EXPECT_EQ((removal.info & WATCH_INFO_ID) >> 8, 9u);

  sim::DeviceStatus after = Status();
  EXPECT_EQ(after.files_size(), 0);
  EXPECT_EQ(after.pipes_size(), 0);
  EXPECT_EQ(after.counters().removals_posted(), 1u);
  EXPECT_EQ(after.daemon().files_opened(), 1u);
  EXPECT_EQ(after.daemon().files_released(), 1u);
  EXPECT_EQ(after.daemon().protocol_errors(), 0u);
  EXPECT_FALSE(server_->device()->GetVm(file_id, vm).ok());
  EXPECT_FALSE(server_->device()->ListVms(file_id).ok());
}

TEST_F(ServerRobustness, StopReleasesFilesWakesClientsAndRemovesTheSocket) {
  std::unique_ptr<RemoteBackend> file = OpenRemote();
  absl::StatusOr<NotificationPipe> pipe = file->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok());
  ASSERT_EQ(sim::testing::Watch(*file, pipe->read_end.get(), 1), 0);
  Client idle = Connect(Role::kControl);
  server_->Stop();
  EXPECT_EQ(::access(socket_.c_str(), F_OK), -1);
  EXPECT_EQ(idle.Receive(10000).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ReadBytes(pipe->read_end.get(), 8).size(), 8u)
      << "the removal record of the released file";
  uint32_t vm = 0;
  EXPECT_EQ(VmCreate(*file, kLr, &vm), -EIO);
  server_->Stop();  // idempotent
}

TEST_F(ServerRobustness, StaleSocketIsReplacedLiveOneAndOtherFilesRefused) {
  ServerOptions options = Options();
  options.socket_path = dir_.path() + "/second.sock";
  // A dead daemon's socket file: bound, never listened on, closed.
  {
    absl::StatusOr<UniqueFd> dead = ListenSeqpacket(options.socket_path);
    ASSERT_TRUE(dead.ok());
  }
  ASSERT_EQ(::access(options.socket_path.c_str(), F_OK), 0);
  absl::StatusOr<std::unique_ptr<Server>> replaced = Server::Start(options);
  ASSERT_TRUE(replaced.ok()) << replaced.status();

  absl::StatusOr<std::unique_ptr<Server>> live = Server::Start(options);
  ASSERT_FALSE(live.ok());
  EXPECT_EQ(live.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(live.status().message(), HasSubstr(options.socket_path));
  (*replaced)->Stop();

  options.socket_path = dir_.path() + "/plain-file";
  UniqueFd plain(::open(options.socket_path.c_str(),
                        O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  absl::StatusOr<std::unique_ptr<Server>> refused = Server::Start(options);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(::access(options.socket_path.c_str(), F_OK), 0) << "not removed";

  options.socket_path = std::string(200, 'x');
  EXPECT_EQ(Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ServerRobustness, WaitReleasedTimesOutWhileTheFileStaysOpen) {
  Client file = Connect(Role::kDrmFile);
  sim::ControlRequest wait;
  wait.mutable_wait_released()->set_pid(static_cast<uint32_t>(::getpid()));
  wait.mutable_wait_released()->set_timeout_ms(20);
  Client control = Connect(Role::kControl);
  absl::StatusOr<sim::ControlReply> reply = control.Control(wait);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(reply.status().message(), HasSubstr("1 matching files"));
}

}  // namespace
}  // namespace xehil::simd
