// LeaseReaper and PressureLease when the system refuses a thread: Schedule
// and Create return the error (a lease is not handed out without its TTL),
// nothing calls std::terminate. The refusal is real: a forked child (no
// other thread in this binary) drops root, which RLIMIT_NPROC does not bind,
// and lowers RLIMIT_NPROC to 1, so pthread_create fails with EAGAIN.
#include <grp.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_lease.h"
#include "core/pressure/pressure_test_util.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

constexpr int kSkip = 77;

class CountedHolding : public PressureHolding {
 public:
  explicit CountedHolding(int* releases) : releases_(releases) {}
  absl::Status Release() override {
    ++*releases_;
    return absl::OkStatus();
  }

 private:
  int* releases_;
};

// The child's checks; "" when they held.
std::string RefusedThreadChecks() {
  LeaseReaper reaper;
  absl::StatusOr<LeaseReaper::Id> refused =
      reaper.Schedule(absl::Hours(1), [] {});
  if (refused.ok()) return "Schedule succeeded without a thread";
  if (refused.status().message().find("starting its thread") ==
      std::string::npos) {
    return absl::StrCat("Schedule: unexpected ", refused.status().ToString());
  }
  if (reaper.pending() != 0) return "a refused Schedule left an entry";

  int releases = 0;
  absl::StatusOr<std::unique_ptr<PressureLease>> lease = PressureLease::Create(
      "fake 4 KiB", 4096, std::make_unique<CountedHolding>(&releases),
      absl::Seconds(30), std::make_shared<LeaseReaper>());
  if (lease.ok()) return "a lease was handed out without its TTL";
  if (releases != 1) return "the refused lease's pressure was not released";
  if (lease.status().message().find("fake 4 KiB: ") != 0 ||
      lease.status().message().find("the pressure was released") ==
          std::string::npos) {
    return absl::StrCat("Create: unexpected ", lease.status().ToString());
  }
  return "";
}

int Child(int report) {
  auto say = [report](int code, const std::string& text) {
    const std::string line = text + "\n";
    (void)!::write(report, line.data(), line.size());
    return code;
  };
  if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 ||
                           ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
    return say(kSkip, "cannot drop root to make RLIMIT_NPROC bind");
  }
  rlimit old{};
  ::getrlimit(RLIMIT_NPROC, &old);
  const rlimit low{1, old.rlim_max};
  if (::setrlimit(RLIMIT_NPROC, &low) != 0) {
    return say(kSkip, "setrlimit(RLIMIT_NPROC) failed");
  }
  pthread_t probe;
  if (::pthread_create(
          &probe, nullptr, [](void*) -> void* { return nullptr; }, nullptr) ==
      0) {
    ::pthread_join(probe, nullptr);
    return say(kSkip, "RLIMIT_NPROC does not bind here (CAP_SYS_RESOURCE?)");
  }
  std::string failed = RefusedThreadChecks();
  if (!failed.empty()) return say(1, failed);

  // With threads allowed again the same reaper works.
  ::setrlimit(RLIMIT_NPROC, &old);
  testing::Event ran;  // outlives the reaper, whose thread notifies it
  LeaseReaper reaper;
  if (!reaper.Schedule(absl::ZeroDuration(), [&] { ran.Notify(); }).ok() ||
      !ran.WaitFor()) {
    return say(2, "the reaper does not work once threads are allowed");
  }
  return 0;
}

TEST(LeaseReaperThreadFailure, ScheduleAndCreateReturnTheError) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::_exit(Child(fds[1]));
  }
  ::close(fds[1]);
  std::string said;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) {
    said.append(buffer, static_cast<size_t>(n));
  }
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
}  // namespace xehil
