// The daemon when the system refuses it a thread: the connection is refused
// with a reason, the daemon keeps serving, nothing calls std::terminate.
// The refusal is real: a forked child (no other thread in this binary) drops
// root, which RLIMIT_NPROC does not bind, and lowers RLIMIT_NPROC below the
// threads it already has, so the next pthread_create fails with EAGAIN.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/testing/forked_child.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/client.h"
#include "sim/simd/server.h"

namespace xehil::simd {
namespace {

using ::xehil::testing::kForkedChildSkip;
using ::xehil::testing::ReportFromChild;

int RefusedThreadChild(int report) {
  if (std::string why = xehil::testing::DropRootForThreadLimit();
      !why.empty()) {
    return ReportFromChild(report, kForkedChildSkip, why);
  }
  char dir[] = "/tmp/simd-nproc-XXXXXX";
  if (::mkdtemp(dir) == nullptr)
    return ReportFromChild(report, 2, "mkdtemp failed");
  const std::string socket = std::string(dir) + "/s";
  ServerOptions options;
  options.socket_path = socket;
  options.profile = sim::testing::TinyProfile();
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options));
  if (!server.ok()) {
    ::rmdir(dir);
    return ReportFromChild(report, 3,
                           absl::StrCat("start: ", server.status().message()));
  }

  rlimit old{};
  int code = 0;
  std::string text = xehil::testing::RefuseNewThreads(&old);
  if (!text.empty()) {
    code = kForkedChildSkip;
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
  return ReportFromChild(report, code, text);
}

TEST(ServerThreadFailure, ConnectionIsRefusedWhenItsThreadCannotStart) {
  const xehil::testing::ForkedChildReport child =
      xehil::testing::RunForkedChild(RefusedThreadChild);
  ASSERT_FALSE(child.signaled) << child.said;
  if (child.exit_code == kForkedChildSkip) GTEST_SKIP() << child.said;
  EXPECT_EQ(child.exit_code, 0) << child.said;
}

}  // namespace
}  // namespace xehil::simd
