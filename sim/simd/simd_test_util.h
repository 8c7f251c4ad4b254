// Test helpers for xehil-simd: a fixture running a Server on a socket in a
// fresh /tmp directory (short enough for sun_path), raw ioctl round trips,
// and pipe readers that wait with a deadline instead of sleeping.
//
//   class Watch : public ServerTest {};
//   TEST_F(Watch, Works) {
//     auto file = OpenRemote();
//     ...
//     EXPECT_EQ(Status().files_size(), 1);
//   }
#ifndef XEHIL_SIM_SIMD_SIMD_TEST_UTIL_H_
#define XEHIL_SIM_SIMD_SIMD_TEST_UTIL_H_

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/simd.pb.h"
#include "sim/simd/client.h"
#include "sim/simd/remote_backend.h"
#include "sim/simd/server.h"

namespace xehil::simd::testing {

// A directory under /tmp, removed (with its files) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Options for StartServer(); the default uses sim's TinyProfile.
  virtual ServerOptions Options();
  void StartServer(ServerOptions options);

  Client Connect(Role role, const std::string& program = "test");
  std::unique_ptr<RemoteBackend> OpenRemote(const std::string& program = "t");
  sim::DeviceStatus Status();
  // One control request that must succeed.
  sim::ControlReply MustControl(const sim::ControlRequest& request);
  // Applies `action` to `file` (VM 0: its restartable VMs).
  void Apply(uint64_t file, uint32_t vm, const sim::Action& action);
  std::vector<std::string> LogLines();

  TempDir dir_;
  absl::Mutex log_mu_;  // before server_, whose log writes here
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
  std::string socket_;
  std::unique_ptr<Server> server_;
};

// An ioctl request carrying `arg`'s bytes.
template <typename T>
IoctlRequest MakeIoctl(uint64_t request, const T& arg,
                       std::vector<Buffer> buffers = {}) {
  IoctlRequest out;
  out.request = request;
  out.arg.resize(sizeof(T));
  std::memcpy(out.arg.data(), &arg, sizeof(T));
  out.buffers = std::move(buffers);
  return out;
}

// The reply's argument as a T (zeroed if the size is wrong).
template <typename T>
T ReplyArg(const IoctlReply& reply) {
  T out{};
  if (reply.arg.size() == sizeof(T)) {
    std::memcpy(&out, reply.arg.data(), sizeof(T));
  }
  return out;
}

// Reads from `fd` until `bytes` bytes arrived, EOF, or 10 s passed.
std::vector<uint8_t> ReadBytes(int fd, size_t bytes);
// Reads until EOF (or 10 s); true if EOF was seen.
bool ReadToEof(int fd, std::vector<uint8_t>* data);

// Sends `bytes` (with `fds`) and expects a kError reply, then EOF.
void ExpectRejected(Client& client, const std::vector<uint8_t>& bytes,
                    const std::vector<int>& fds = {});

// A child process (posix_spawn: safe beside the daemon's threads).
struct Child {
  pid_t pid = -1;
  UniqueFd out;  // the read end of its stdout
  UniqueFd err;  // the read end of its stderr
};
// Runs argv[0] (a path) with stdout and stderr to pipes, `pass_fd` (if >= 0)
// as descriptor 3, and `env` added to the environment.
Child Spawn(const std::vector<std::string>& argv, int pass_fd = -1,
            const std::vector<std::string>& env = {});
// One line of `fd` without its newline ("" at EOF or after 10 s).
std::string ReadLine(int fd);
// waitpid()'s status.
int WaitFor(pid_t pid);

sim::Action FailRebinds(int error, uint32_t count = 1);
sim::Action TriggerRebind();

}  // namespace xehil::simd::testing

#endif  // XEHIL_SIM_SIMD_SIMD_TEST_UTIL_H_
