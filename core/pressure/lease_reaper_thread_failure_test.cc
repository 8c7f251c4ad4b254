// LeaseReaper and PressureLease when the system refuses a thread: Schedule
// and Create return the error (a lease is not handed out without its TTL),
// nothing calls std::terminate. The refusal is real: a forked child (no
// other thread in this binary) drops root, which RLIMIT_NPROC does not bind,
// and lowers RLIMIT_NPROC to 1, so pthread_create fails with EAGAIN.
#include <sys/resource.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/testing/forked_child.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_lease.h"
#include "core/pressure/pressure_test_util.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

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
  if (std::string why = testing::DropRootForThreadLimit(); !why.empty()) {
    return testing::ReportFromChild(report, testing::kForkedChildSkip, why);
  }
  rlimit old{};
  if (std::string why = testing::RefuseNewThreads(&old); !why.empty()) {
    return testing::ReportFromChild(report, testing::kForkedChildSkip, why);
  }
  std::string failed = RefusedThreadChecks();
  if (!failed.empty()) return testing::ReportFromChild(report, 1, failed);

  // With threads allowed again the same reaper works.
  ::setrlimit(RLIMIT_NPROC, &old);
  testing::Event ran;  // outlives the reaper, whose thread notifies it
  LeaseReaper reaper;
  if (!reaper.Schedule(absl::ZeroDuration(), [&] { ran.Notify(); }).ok() ||
      !ran.WaitFor()) {
    return testing::ReportFromChild(
        report, 2, "the reaper does not work once threads are allowed");
  }
  return 0;
}

TEST(LeaseReaperThreadFailure, ScheduleAndCreateReturnTheError) {
  const testing::ForkedChildReport child = testing::RunForkedChild(Child);
  ASSERT_FALSE(child.signaled) << child.said;
  if (child.exit_code == testing::kForkedChildSkip) GTEST_SKIP() << child.said;
  EXPECT_EQ(child.exit_code, 0) << child.said;
}

}  // namespace
}  // namespace xehil
