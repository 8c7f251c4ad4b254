// Formatting and ticks read well and survive odd input.
#include "tools/lab/report/chart_util.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

using ::testing::ElementsAre;

const std::string kUs = std::string(kMicro) + "s";

TEST(FormatMicros, PicksAUnitPerMagnitude) {
  EXPECT_EQ(FormatMicros(3.25), "3.2 " + kUs);
  EXPECT_EQ(FormatMicros(850), "850 " + kUs);
  EXPECT_EQ(FormatMicros(1234), "1.23 ms");
  EXPECT_EQ(FormatMicros(4.2e6), "4.20 s");
  EXPECT_EQ(FormatMicros(std::nan("")), "-");
  EXPECT_EQ(FormatMicros(-1), "-");
}

TEST(FormatMillis, ReadsLikeADuration) {
  EXPECT_EQ(FormatMillis(350), "350 ms");
  EXPECT_EQ(FormatMillis(12345), "12.3 s");
  EXPECT_EQ(FormatMillis(245000), "4 min 05 s");
  EXPECT_EQ(FormatMillis(7380000), "2 h 03 min");
}

TEST(FormatUnixMs, IsUtcWithMillisecondsOrUnknown) {
  EXPECT_EQ(FormatUnixMs(1795442587123), "2026-11-23 14:03:07.123 UTC");
  EXPECT_EQ(FormatUnixMs(0), "unknown");
  EXPECT_EQ(FormatUnixMs(std::numeric_limits<int64_t>::max()), "unknown");
}

TEST(FormatTick, ShortensLargeNumbers) {
  EXPECT_EQ(FormatTick(0), "0");
  EXPECT_EQ(FormatTick(2.5), "2.5");
  EXPECT_EQ(FormatTick(1000), "1000");
  EXPECT_EQ(FormatTick(10000), "10k");
  EXPECT_EQ(FormatTick(1.5e6), "1.5M");
  EXPECT_EQ(FormatTick(0.30000000000000004), "0.3");
}

TEST(SvgNum, HasOneDecimalAtMost) {
  EXPECT_EQ(SvgNum(12.0), "12");
  EXPECT_EQ(SvgNum(12.345), "12.3");
  EXPECT_EQ(SvgNum(-0.01), "0");
  EXPECT_EQ(SvgNum(std::numeric_limits<double>::infinity()), "0");
}

TEST(Ellipsize, NeverSplitsAUtf8Character) {
  EXPECT_EQ(Ellipsize("short", 10), "short");
  EXPECT_EQ(Ellipsize("abcdefghij", 6), "abc\xe2\x80\xa6");
  // "µµµµ" is 8 bytes; a cut at byte 3 would split the second µ.
  EXPECT_EQ(Ellipsize("\xc2\xb5\xc2\xb5\xc2\xb5\xc2\xb5", 6),
            "\xc2\xb5\xe2\x80\xa6");
}

TEST(LabelFit, GrowsWithTheSpaceButNeverBelowEight) {
  EXPECT_EQ(LabelFit(250), 36u);
  EXPECT_EQ(LabelFit(10), 8u);
  EXPECT_EQ(LabelFit(-5), 8u);
}

TEST(LinearTicks, UsesOneTwoFiveSteps) {
  double max = 0;
  EXPECT_THAT(LinearTicks(930, 8, &max),
              ElementsAre(0, 200, 400, 600, 800, 1000));
  EXPECT_EQ(max, 1000);
  EXPECT_THAT(LinearTicks(1000, 10, &max).size(), 11u);
  EXPECT_EQ(max, 1000);
  EXPECT_EQ(LinearTicks(0, 8, &max).size(), 6u);  // 0, 0.2, ..., 1
  EXPECT_EQ(max, 1);
  EXPECT_LE(LinearTicks(std::nan(""), 8, &max).size(), 10u);
  EXPECT_LE(LinearTicks(1.8e19, 8, &max).size(), 10u);
  EXPECT_GE(max, 1.8e19);
}

TEST(TimeUnitFor, SwitchesAtTwoOfTheNextUnit) {
  EXPECT_EQ(TimeUnitFor(1999).name, kUs);
  EXPECT_EQ(TimeUnitFor(2000).name, "ms");
  EXPECT_EQ(TimeUnitFor(2e6).divisor, 1e6);
}

TEST(ResultColor, DiffersForPassAndFail) {
  EXPECT_STRNE(ResultColor(RESULT_PASS), ResultColor(RESULT_FAIL));
  EXPECT_STREQ(ResultClass(RESULT_TIMEOUT), "timeout");
  EXPECT_STREQ(ResultClass(static_cast<Result>(99)), "unspecified");
}

}  // namespace
}  // namespace xehil::lab
