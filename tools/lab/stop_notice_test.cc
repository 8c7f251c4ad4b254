#include "tools/lab/stop_notice.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

TEST(StopNotice, FirstReasonWinsAndWakesWaiters) {
  StopNotice stop;
  EXPECT_FALSE(stop.WaitFor(absl::ZeroDuration()));
  std::thread waker([&] { stop.Notify("count"); });
  EXPECT_TRUE(stop.WaitFor(absl::InfiniteDuration()));
  waker.join();
  stop.Notify("later");
  EXPECT_EQ(stop.reason(), "count");
  EXPECT_TRUE(stop.notified());
}

TEST(SignalThread, SigtermBecomesANotificationNotADeath) {
  StopNotice stop;
  {
    SignalThread signals(&stop);
    ASSERT_EQ(kill(getpid(), SIGTERM), 0);
    EXPECT_TRUE(stop.WaitFor(absl::InfiniteDuration()));
  }
  EXPECT_EQ(stop.reason(), "SIGTERM");
}

TEST(SignalThread, StopsCleanlyWithoutASignal) {
  StopNotice stop;
  { SignalThread signals(&stop); }
  EXPECT_FALSE(stop.notified());
}

}  // namespace
}  // namespace xehil::lab
