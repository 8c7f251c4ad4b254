// The latency chart has a row per host x report with samples, glyphs for
// each percentile, a log axis in µs, and survives invalid summaries.
#include "tools/lab/report/latency_chart.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/report/sample_lab_run.h"
#include "tools/lab/report/xml_check.h"

namespace xehil::lab {
namespace {

using testing::CheckWellFormedXml;
using testing::CountOccurrences;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunXmllint;

void ExpectWellFormed(const std::string& svg) {
  EXPECT_TRUE(CheckWellFormedXml(svg).ok()) << CheckWellFormedXml(svg);
  const testing::XmllintResult lint = RunXmllint(svg, /*html=*/false);
  if (lint.available) {
    EXPECT_EQ(lint.exit_code, 0) << lint.output;
  }
}

TEST(DecadeTicks, CoversTheValuesInWholeDecades) {
  EXPECT_THAT(DecadeTicks({85, 4200}), ElementsAre(10, 100, 1000, 10000));
  EXPECT_THAT(DecadeTicks({100}), ElementsAre(100, 1000));
  EXPECT_THAT(DecadeTicks({}), ElementsAre(1, 10));
  EXPECT_THAT(DecadeTicks({std::nan(""), -3, 0}), ElementsAre(1, 10));
  EXPECT_DOUBLE_EQ(DecadeTicks({1e-9, 5}).front(), 0.01);
  EXPECT_DOUBLE_EQ(DecadeTicks({1e20}).back(), 1e12);
  EXPECT_EQ(DecadeTicks({std::numeric_limits<double>::infinity(), 50}).size(),
            2u);
}

TEST(LatencySvg, HasARowPerReportWithSamplesAndOneForAHostWithout) {
  const std::string svg = LatencySvg(SampleLabRun());
  // xe-dg2-01: 2 reports; sim: 1 with samples (the skipped one has none);
  // xe-bmg-03: unreachable, one "no samples" row.
  EXPECT_EQ(CountOccurrences(svg, "<g class=\"lat-row\">"), 4u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"p50\""), 3u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"p90\""), 3u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"p99\""), 3u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"max\""), 3u);
  EXPECT_EQ(CountOccurrences(svg, ">no latency samples<"), 1u);
  EXPECT_THAT(svg, HasSubstr("latency (\xc2\xb5s, log scale)"));
  EXPECT_THAT(svg, HasSubstr("sim &lt;b&gt; &amp; &quot;co&quot;"));
  ExpectWellFormed(svg);
}

TEST(LatencySvg, SkipsInvalidNumbersInsteadOfDrawingThem) {
  LabRun run;
  HostRun* host = run.add_hosts();
  host->set_host("h");
  LatencySummary* l = host->add_reports()->mutable_latency();
  l->set_count(3);
  l->set_p50_us(std::nan(""));
  l->set_p90_us(-1);
  l->set_p99_us(std::numeric_limits<double>::infinity());
  l->set_max_us(120);
  const std::string svg = LatencySvg(run);
  EXPECT_EQ(CountOccurrences(svg, "class=\"p50\""), 0u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"max\""), 1u);
  EXPECT_THAT(svg, HasSubstr("p50 invalid"));
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  ExpectWellFormed(svg);
}

TEST(LatencySvg, GrowsWithHostsAndHandlesNone) {
  const std::string big = LatencySvg(ManyHostsRun(64, 1));
  EXPECT_EQ(CountOccurrences(big, "<g class=\"lat-row\">"), 64u);
  ExpectWellFormed(big);
  const std::string empty = LatencySvg(LabRun());
  EXPECT_THAT(empty, HasSubstr("no hosts"));
  ExpectWellFormed(empty);
}

}  // namespace
}  // namespace xehil::lab
