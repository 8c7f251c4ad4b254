#include "sim/simd/simd_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "absl/synchronization/mutex.h"
#include "core/base/monotonic_clock.h"
#include "sim/sim_test_util.h"

namespace xehil::simd::testing {

TempDir::TempDir() {
  char templ[] = "/tmp/simd-test-XXXXXX";
  const char* made = ::mkdtemp(templ);
  EXPECT_NE(made, nullptr) << "mkdtemp: " << std::strerror(errno);
  if (made != nullptr) path_ = made;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

void ServerTest::SetUp() { StartServer(Options()); }

void ServerTest::TearDown() {
  if (server_ != nullptr) server_->Stop();
}

ServerOptions ServerTest::Options() {
  ServerOptions options;
  options.socket_path = dir_.path() + "/simd.sock";
  options.profile = sim::testing::TinyProfile();
  return options;
}

void ServerTest::StartServer(ServerOptions options) {
  options.log = [this](const std::string& line) {
    absl::MutexLock lock(&log_mu_);
    log_.push_back(line);
  };
  socket_ = options.socket_path;
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options));
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = *std::move(server);
}

Client ServerTest::Connect(Role role, const std::string& program) {
  absl::StatusOr<Client> client = Client::Connect(socket_, role, program);
  EXPECT_TRUE(client.ok()) << client.status();
  if (!client.ok()) std::abort();  // the test cannot go on
  return *std::move(client);
}

std::unique_ptr<RemoteBackend> ServerTest::OpenRemote(
    const std::string& program) {
  absl::StatusOr<std::unique_ptr<RemoteBackend>> backend =
      RemoteBackend::Connect(socket_, program);
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) std::abort();
  return *std::move(backend);
}

sim::ControlReply ServerTest::MustControl(const sim::ControlRequest& request) {
  Client control = Connect(Role::kControl);
  absl::StatusOr<sim::ControlReply> reply = control.Control(request);
  EXPECT_TRUE(reply.ok()) << reply.status();
  return reply.ok() ? *reply : sim::ControlReply();
}

sim::DeviceStatus ServerTest::Status() {
  sim::ControlRequest request;
  request.mutable_status();
  return MustControl(request).status();
}

void ServerTest::Apply(uint64_t file, uint32_t vm, const sim::Action& action) {
  sim::ControlRequest request;
  request.mutable_apply()->set_file_id(file);
  request.mutable_apply()->set_vm_id(vm);
  *request.mutable_apply()->add_action() = action;
  MustControl(request);
}

std::vector<std::string> ServerTest::LogLines() {
  absl::MutexLock lock(&log_mu_);
  return log_;
}

namespace {

// Reads what is available, waiting for data up to the deadline. Returns
// false at EOF or deadline.
bool ReadSome(int fd, uint64_t deadline_ns, std::vector<uint8_t>* data,
              bool* eof) {
  const uint64_t now = MonotonicNowNs();
  if (now >= deadline_ns) return false;
  pollfd p{fd, POLLIN, 0};
  const int timeout_ms = static_cast<int>((deadline_ns - now) / 1000000 + 1);
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  uint8_t buffer[4096];
  const ssize_t n = ::read(fd, buffer, sizeof(buffer));
  if (n <= 0) {
    *eof = n == 0;
    return false;
  }
  data->insert(data->end(), buffer, buffer + n);
  return true;
}

}  // namespace

std::vector<uint8_t> ReadBytes(int fd, size_t bytes) {
  const uint64_t deadline = MonotonicNowNs() + 10'000'000'000u;
  std::vector<uint8_t> data;
  bool eof = false;
  while (data.size() < bytes && ReadSome(fd, deadline, &data, &eof)) {
  }
  return data;
}

bool ReadToEof(int fd, std::vector<uint8_t>* data) {
  const uint64_t deadline = MonotonicNowNs() + 10'000'000'000u;
  bool eof = false;
  while (ReadSome(fd, deadline, data, &eof)) {
  }
  return eof;
}

void ExpectRejected(Client& client, const std::vector<uint8_t>& bytes,
                    const std::vector<int>& fds) {
  ASSERT_TRUE(client.SendDatagram(bytes, fds).ok());
  absl::StatusOr<Message> reply = client.Receive(10000);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->header.type, static_cast<uint16_t>(MessageType::kError));
  EXPECT_EQ(reply->error.error, -EPROTO);
  EXPECT_FALSE(reply->error.message.empty());
  absl::StatusOr<Message> after = client.Receive(10000);
  EXPECT_EQ(after.status().code(), absl::StatusCode::kOutOfRange)
      << "the daemon should close a connection after a protocol error";
}

Child Spawn(const std::vector<std::string>& argv, int pass_fd,
            const std::vector<std::string>& env) {
  Child child;
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return child;
  }
  child.out = UniqueFd(out[0]);
  child.err = UniqueFd(err[0]);
  UniqueFd out_write(out[1]), err_write(err[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), STDERR_FILENO);
  if (pass_fd >= 0) posix_spawn_file_actions_adddup2(&actions, pass_fd, 3);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) {
    args.push_back(const_cast<char*>(arg.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const int rc = ::posix_spawn(&child.pid, args[0], &actions, nullptr,
                               args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    ADD_FAILURE() << "posix_spawn " << argv[0] << ": " << std::strerror(rc);
    child.pid = -1;
  }
  return child;
}

std::string ReadLine(int fd) {
  const uint64_t deadline = MonotonicNowNs() + 10'000'000'000u;
  std::string line;
  for (;;) {
    const uint64_t now = MonotonicNowNs();
    if (now >= deadline) return line;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>((deadline - now) / 1000000 + 1)) <= 0) {
      return line;
    }
    char c;
    if (::read(fd, &c, 1) != 1 || c == '\n') return line;
    line.push_back(c);
  }
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

sim::Action FailRebinds(int error, uint32_t count) {
  sim::Action action;
  action.mutable_fail_rebinds()->set_count(count);
  action.mutable_fail_rebinds()->set_error(static_cast<Errno>(-error));
  return action;
}

sim::Action TriggerRebind() {
  sim::Action action;
  action.mutable_trigger_rebind();
  return action;
}

}  // namespace xehil::simd::testing
