// Running checks in a forked child of a test, for what a test must not do to
// its own process: run out of threads. The child reports through a pipe and
// its exit code; the parent sees whether it crashed (std::terminate on a
// failed thread start is SIGABRT), passed, failed or could not set up.
//
//   ForkedChildReport report = RunForkedChild([](int report_fd) {
//     if (std::string why = DropRootForThreadLimit(); !why.empty())
//       return ReportFromChild(report_fd, kForkedChildSkip, why);
//     rlimit old;
//     if (std::string why = RefuseNewThreads(&old); !why.empty())
//       return ReportFromChild(report_fd, kForkedChildSkip, why);
//     ...  // pthread_create fails with EAGAIN from here on
//     return 0;
//   });
//   ASSERT_FALSE(report.signaled) << report.said;
//   if (report.exit_code == kForkedChildSkip) GTEST_SKIP() << report.said;
//   EXPECT_EQ(report.exit_code, 0) << report.said;
//
// Fork only from a test with no other threads running.
#ifndef XEHIL_CORE_BASE_TESTING_FORKED_CHILD_H_
#define XEHIL_CORE_BASE_TESTING_FORKED_CHILD_H_

#include <sys/resource.h>

#include <functional>
#include <string>

namespace xehil::testing {

// The exit code of a child that could not set up what it checks.
inline constexpr int kForkedChildSkip = 77;

struct ForkedChildReport {
  bool signaled = false;  // killed by `signal` instead of exiting
  int signal = 0;
  int exit_code = -1;
  std::string said;  // every line the child reported
};

// Forks, runs `child(report_fd)` in the child and exits with what it
// returns; waits for it and collects what it wrote to `report_fd`.
ForkedChildReport RunForkedChild(const std::function<int(int)>& child);

// Writes `text` and a newline to `fd`; returns `code`, for `return`.
int ReportFromChild(int fd, int code, const std::string& text);

// RLIMIT_NPROC does not bind root: as root, drops to nobody. "" or why not.
std::string DropRootForThreadLimit();

// Lowers RLIMIT_NPROC to 1 (saving the old limit in `*old`) and checks that
// pthread_create now fails. "" or why the limit does not bind here.
std::string RefuseNewThreads(rlimit* old);

}  // namespace xehil::testing

#endif  // XEHIL_CORE_BASE_TESTING_FORKED_CHILD_H_
