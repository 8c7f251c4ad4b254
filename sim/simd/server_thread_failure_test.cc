// The daemon when the system refuses it a thread: the connection is refused
// with a reason, the daemon keeps serving, nothing calls std::terminate.
// The refusal is real: a forked child (no other thread in this binary) drops
// root, which RLIMIT_NPROC does not bind, and lowers RLIMIT_NPROC below the
// threads it already has, so the next pthread_create fails with EAGAIN.
#include <grp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/client.h"
#include "sim/simd/server.h"

namespace xehil::simd {
namespace {

constexpr int kSkip = 77;

// Writes `text` to the report pipe; returns `code` (the child's exit code).
int Report(int fd, int code, const std::string& text) {
  const std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());
  return code;
}

int RefusedThreadChild(int report) {
  if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 ||
                           ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
    return Report(report, kSkip, "cannot drop root to make RLIMIT_NPROC bind");
  }
  char dir[] = "/tmp/simd-nproc-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return Report(report, 2, "mkdtemp failed");
  const std::string socket = std::string(dir) + "/s";
  ServerOptions options;
  options.socket_path = socket;
  options.profile = sim::testing::TinyProfile();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options));
  if (!server.ok()) {
    ::rmdir(dir);
    return Report(report, 3,
                  absl::StrCat("start: ", server.status().message()));
  }

  rlimit old{};
  ::getrlimit(RLIMIT_NPROC, &old);
  const rlimit low{1, old.rlim_max};
  int code = 0;
  std::string text;
  if (::setrlimit(RLIMIT_NPROC, &low) != 0) {
    code = kSkip;
    text = "setrlimit(RLIMIT_NPROC) failed";
  } else {
    pthread_t probe;
    if (::pthread_create(
            &probe, nullptr, [](void*) -> void* { return nullptr; }, nullptr) ==
        0) {
      ::pthread_join(probe, nullptr);
      code = kSkip;
      text = "RLIMIT_NPROC does not bind here (CAP_SYS_RESOURCE?)";
    } else {
      absl::StatusOr<Client> refused =
          Client::Connect(socket, Role::kControl, "refused");
      if (refused.ok()) {
        code = 4;
        text = "a connection was served without a thread";
      } else if (refused.status().message().find("cannot start a thread") ==
                 std::string::npos) {
        code = 5;
        text = absl::StrCat("refused for another reason: ",
                            refused.status().message());
      }
    }
  }
  ::setrlimit(RLIMIT_NPROC, &old);
  if (code == 0) {
    absl::StatusOr<Client> admitted =
        Client::Connect(socket, Role::kControl, "admitted");
    sim::ControlRequest status;
    status.mutable_status();
    absl::StatusOr<sim::ControlReply> reply =
        admitted.ok() ? admitted->Control(status) : admitted.status();
    if (!reply.ok()) {
      code = 6;
      text = absl::StrCat("daemon unusable afterwards: ",
                          reply.status().message());
    } else if (reply->status().daemon().connections_refused() != 1) {
      code = 7;
      text = "connections_refused is not 1";
    }
  }
  (*server)->Stop();
  ::rmdir(dir);
  return Report(report, code, text);
}

TEST(ServerThreadFailure, ConnectionIsRefusedWhenItsThreadCannotStart) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::_exit(RefusedThreadChild(fds[1]));
  }
  ::close(fds[1]);
  std::string said;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0)
    said.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_FALSE(WIFSIGNALED(status))
      << "the child died of signal " << WTERMSIG(status)
      << " (std::terminate on a failed thread start?)";
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kSkip) GTEST_SKIP() << said;
  EXPECT_EQ(WEXITSTATUS(status), 0) << said;
}

}  // namespace
}  // namespace xehil::simd
