#include "core/recovery/default_policy.h"

#include <cerrno>
#include <chrono>

#include "core/base/errno_status.h"
#include "integration/recovery/recovery_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using Action = Decision::Action;

VmStatus Failing(int consecutive) {
  VmStatus vm;
  vm.vm_id = 3;
  vm.consecutive_failures = consecutive;
  return vm;
}

VmError Error(int error) {
  VmError e;
  e.vm_id = 3;
  e.error = error;
  return e;
}

TEST(DefaultRecoveryPolicy, BackoffDoublesFromInitialUpToTheCap) {
  const DefaultRecoveryPolicy::Options o;  // 1 ms, x2, cap 100 ms
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 0), nanoseconds(0));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 1), nanoseconds(0));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 2), milliseconds(1));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 3), milliseconds(2));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 8), milliseconds(64));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 9), milliseconds(100));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 10), milliseconds(100));
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 1'000'000), milliseconds(100));
}

TEST(DefaultRecoveryPolicy, BackoffNeverShrinksOrExceedsTheCap) {
  DefaultRecoveryPolicy::Options o;
  o.initial_backoff = std::chrono::microseconds(300);
  o.backoff_factor = 1.7;
  o.max_backoff = milliseconds(20);
  nanoseconds last(0);
  for (int n = 1; n < 200; ++n) {
    const nanoseconds d = DefaultRecoveryPolicy::Backoff(o, n);
    EXPECT_GE(d, last) << n;
    EXPECT_LE(d, o.max_backoff) << n;
    last = d;
  }
  EXPECT_EQ(last, o.max_backoff);
}

TEST(DefaultRecoveryPolicy, BackoffToleratesOddOptions) {
  DefaultRecoveryPolicy::Options o;
  o.backoff_factor = 0.5;  // counts as 1: constant backoff
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 5), milliseconds(1));
  o.initial_backoff = milliseconds(-5);
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 5), nanoseconds(0));
  o.initial_backoff = milliseconds(500);  // above the cap
  EXPECT_EQ(DefaultRecoveryPolicy::Backoff(o, 2), milliseconds(100));
}

TEST(DefaultRecoveryPolicy, OnlyEnomemAndEnospcAreRestartable) {
  EXPECT_TRUE(DefaultRecoveryPolicy::IsRestartable(-ENOMEM));
  EXPECT_TRUE(DefaultRecoveryPolicy::IsRestartable(-ENOSPC));
  EXPECT_FALSE(DefaultRecoveryPolicy::IsRestartable(-EIO));
  EXPECT_FALSE(DefaultRecoveryPolicy::IsRestartable(-EAGAIN));
  EXPECT_FALSE(DefaultRecoveryPolicy::IsRestartable(0));
}

class DefaultPolicyDecisions : public testing::Test {
 protected:
  recovery_test::SimRig rig_;
  recovery_test::TestContext ctx_{rig_.xe()};
};

TEST_F(DefaultPolicyDecisions, FirstFailureRestartsAtOnceLaterOnesBackOff) {
  DefaultRecoveryPolicy policy;
  Decision d = policy.OnVmError(ctx_, Error(-ENOMEM), Failing(1));
  EXPECT_EQ(d.action, Action::kRestart);
  EXPECT_EQ(d.delay, nanoseconds(0));
  d = policy.OnVmError(ctx_, Error(-ENOSPC), Failing(4));
  EXPECT_EQ(d.action, Action::kRestart);
  EXPECT_EQ(d.delay, milliseconds(4));
}

TEST_F(DefaultPolicyDecisions, OtherErrnosAreReported) {
  DefaultRecoveryPolicy policy;
  const Decision d = policy.OnVmError(ctx_, Error(-EIO), Failing(1));
  EXPECT_EQ(d.action, Action::kReport);
  EXPECT_THAT(d.reason, testing::HasSubstr("-EIO"));
}

TEST_F(DefaultPolicyDecisions, GivesUpBeyondMaxConsecutiveFailures) {
  DefaultRecoveryPolicy::Options o;
  o.max_consecutive_failures = 3;
  DefaultRecoveryPolicy policy(o);
  EXPECT_EQ(policy.OnVmError(ctx_, Error(-ENOMEM), Failing(3)).action,
            Action::kRestart);
  const Decision d = policy.OnVmError(ctx_, Error(-ENOMEM), Failing(4));
  EXPECT_EQ(d.action, Action::kGiveUp);
  EXPECT_THAT(d.reason, testing::HasSubstr("4 consecutive failures"));
}

TEST_F(DefaultPolicyDecisions, ExhaustedEagainGivesUpUnlessConfiguredToRetry) {
  const absl::Status again = ErrnoToStatus(-EAGAIN, "VM_RESTART vm 3");
  DefaultRecoveryPolicy give_up;
  EXPECT_EQ(give_up.OnRestartFailed(ctx_, Failing(1), again).action,
            Action::kGiveUp);

  DefaultRecoveryPolicy::Options o;
  o.give_up_when_eagain_exhausted = false;
  DefaultRecoveryPolicy retry(o);
  const Decision d = retry.OnRestartFailed(ctx_, Failing(2), again);
  EXPECT_EQ(d.action, Action::kRestart);
  EXPECT_EQ(d.delay, milliseconds(1));

  const absl::Status invalid = ErrnoToStatus(-EINVAL, "VM_RESTART vm 3");
  EXPECT_EQ(retry.OnRestartFailed(ctx_, Failing(2), invalid).action,
            Action::kGiveUp);
}

TEST_F(DefaultPolicyDecisions, LossReconcilesAndRemovalStopsAll) {
  DefaultRecoveryPolicy policy;
  EXPECT_EQ(policy.OnLost(ctx_), LossAction::kReconcile);
  EXPECT_EQ(policy.OnRemoved(ctx_, Removed{}), RemovalAction::kStopAll);
  EXPECT_EQ(policy.MaxRestartTries(Failing(1)), XeDevice::kDefaultRestartTries);
}

}  // namespace
}  // namespace xehil
