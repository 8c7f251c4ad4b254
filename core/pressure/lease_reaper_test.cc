#include "core/pressure/lease_reaper.h"

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/pressure/pressure_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::ElementsAre;
using ::xehil::testing::Event;

TEST(LeaseReaper, RunsACallbackOnceItsDeadlinePassed) {
  LeaseReaper reaper;
  Event ran;
  EXPECT_TRUE(
      reaper.Schedule(absl::Milliseconds(1), [&] { ran.Notify(); }).ok());
  EXPECT_TRUE(ran.WaitFor());
}

TEST(LeaseReaper, RunsDueCallbacksInDeadlineOrder) {
  LeaseReaper reaper;
  Event entered, open, done;
  absl::Mutex mu;
  std::vector<int> order;
  // Hold the reaper thread so that both deadlines are queued before it looks.
  EXPECT_TRUE(reaper
                  .Schedule(absl::ZeroDuration(),
                            [&] {
                              entered.Notify();
                              open.WaitFor();
                            })
                  .ok());
  ASSERT_TRUE(entered.WaitFor());
  EXPECT_TRUE(reaper
                  .Schedule(absl::Milliseconds(20),
                            [&] {
                              absl::MutexLock lock(&mu);
                              order.push_back(2);
                              done.Notify();
                            })
                  .ok());
  EXPECT_TRUE(reaper
                  .Schedule(absl::Milliseconds(1),
                            [&] {
                              absl::MutexLock lock(&mu);
                              order.push_back(1);
                            })
                  .ok());
  open.Notify();
  ASSERT_TRUE(done.WaitFor());
  absl::MutexLock lock(&mu);
  EXPECT_THAT(order, ElementsAre(1, 2));
}

TEST(LeaseReaper, CancelledCallbackNeverRuns) {
  LeaseReaper reaper;
  Event entered, open, cancelled_ran, later_ran;
  // Hold the reaper thread so that the cancel comes before the deadline is
  // looked at, however slow this machine is.
  EXPECT_TRUE(reaper
                  .Schedule(absl::ZeroDuration(),
                            [&] {
                              entered.Notify();
                              open.WaitFor();
                            })
                  .ok());
  ASSERT_TRUE(entered.WaitFor());
  LeaseReaper::Id id =
      *reaper.Schedule(absl::Milliseconds(1), [&] { cancelled_ran.Notify(); });
  // Due later than the cancelled one: had that stayed, it would run first.
  EXPECT_TRUE(
      reaper.Schedule(absl::Milliseconds(2), [&] { later_ran.Notify(); }).ok());
  EXPECT_TRUE(reaper.Cancel(id));
  EXPECT_FALSE(reaper.Cancel(id));
  open.Notify();
  ASSERT_TRUE(later_ran.WaitFor());
  EXPECT_FALSE(cancelled_ran.notified());
  EXPECT_EQ(reaper.pending(), 0u);
}

TEST(LeaseReaper, RescheduleMovesTheDeadline) {
  LeaseReaper reaper;
  Event ran;
  LeaseReaper::Id id = *reaper.Schedule(absl::Hours(1), [&] { ran.Notify(); });
  EXPECT_TRUE(reaper.Reschedule(id, absl::Milliseconds(1)));
  ASSERT_TRUE(ran.WaitFor());
  EXPECT_FALSE(reaper.Reschedule(id, absl::Hours(1))) << "it already ran";
}

TEST(LeaseReaper, CallbackMayScheduleAnother) {
  LeaseReaper reaper;
  Event second;
  EXPECT_TRUE(reaper
                  .Schedule(absl::ZeroDuration(),
                            [&] {
                              reaper
                                  .Schedule(absl::ZeroDuration(),
                                            [&] { second.Notify(); })
                                  .IgnoreError();
                            })
                  .ok());
  EXPECT_TRUE(second.WaitFor());
}

TEST(LeaseReaper, DestructionDropsPendingCallbacksWithoutRunningThem) {
  auto sentinel = std::make_shared<int>(0);
  bool ran = false;
  {
    LeaseReaper reaper;
    EXPECT_TRUE(
        reaper.Schedule(absl::Hours(1), [&ran, sentinel] { ran = true; }).ok());
    EXPECT_TRUE(reaper.Schedule(absl::InfiniteDuration(), [sentinel] {}).ok());
    EXPECT_EQ(reaper.pending(), 2u);
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(sentinel.use_count(), 1) << "the callbacks were destroyed";
}

TEST(LeaseReaper, CancelOfAnUnknownIdIsFalse) {
  LeaseReaper reaper;
  EXPECT_EQ(reaper.pending(), 0u);
  EXPECT_FALSE(reaper.Cancel(1));
}

}  // namespace
}  // namespace xehil
