#include "tools/xehil/sim_run_hints.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(SimRunHints, NamesASpinningPollLoopWithItsCountAndRate) {
  const std::vector<std::string> hints = ListenerHints(
      "pipe=3 pid=77 hangups=500 first_ns=1000000000 last_ns=1500000000 "
      "loss_owed=0\n");
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_THAT(hints[0], HasSubstr("pid 77 got POLLHUP/EOF at once 500 times"));
  EXPECT_THAT(hints[0], HasSubstr("500 times (1000/s) on notification pipe 3"));
  EXPECT_THAT(hints[0], HasSubstr("Keep the write end open"));
}

TEST(SimRunHints, AFewHangupAnswersAreNoLoop) {
  EXPECT_THAT(ListenerHints("pipe=1 pid=2 hangups=1 first_ns=5 last_ns=5 "
                            "loss_owed=0\n"),
              IsEmpty());
}

TEST(SimRunHints, NamesALossRecordLeftUnread) {
  const std::vector<std::string> hints = ListenerHints(
      "pipe=9 pid=4 hangups=0 first_ns=0 last_ns=0 loss_owed=1\n");
  ASSERT_EQ(hints.size(), 1u);
  EXPECT_THAT(hints[0], HasSubstr("left a loss record unread"));
  EXPECT_THAT(hints[0], HasSubstr("Read until EAGAIN"));
}

TEST(SimRunHints, SkipsMalformedLines) {
  EXPECT_THAT(ParsePipeReports("garbage\npipe=x pid=1\n\n"), IsEmpty());
  const std::vector<PipeReport> reports = ParsePipeReports(
      "junk\npipe=1 pid=2 hangups=3 first_ns=4 last_ns=5 loss_owed=1\n");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].hangups, 3u);
  EXPECT_TRUE(reports[0].loss_owed);
}

}  // namespace
}  // namespace xehil
