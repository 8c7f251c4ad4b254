// The timeline draws every event and restart (or says it downsampled), one
// lane per host x report, and stays well-formed whatever the input holds.
#include "tools/lab/report/timeline_chart.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/report/sample_lab_run.h"
#include "tools/lab/report/xml_check.h"

namespace xehil::lab {
namespace {

using testing::CheckWellFormedXml;
using testing::CountOccurrences;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunXmllint;

TimelineEntry Entry(const char* kind, const char* detail, int32_t error = 0) {
  TimelineEntry e;
  e.set_kind(kind);
  e.set_detail(detail);
  e.set_error(error);
  return e;
}

size_t CountKind(const LabRun& run, MarkerKind kind) {
  size_t n = 0;
  for (const HostRun& h : run.hosts()) {
    for (const Report& r : h.reports()) {
      for (const TimelineEntry& e : r.timeline()) n += ClassifyEntry(e) == kind;
    }
  }
  return n;
}

double HeightOf(const std::string& svg) {
  const size_t at = svg.find("height=\"") + 8;
  return std::stod(svg.substr(at, svg.find('"', at) - at));
}

void ExpectWellFormed(const std::string& svg) {
  EXPECT_TRUE(CheckWellFormedXml(svg).ok()) << CheckWellFormedXml(svg);
  const testing::XmllintResult lint = RunXmllint(svg, /*html=*/false);
  if (lint.available) {
    EXPECT_EQ(lint.exit_code, 0) << lint.output;
  }
}

TEST(TimelineSvg, DrawsOneMarkerPerEventAndRestart) {
  const LabRun run = SampleLabRun();
  const std::string svg = TimelineSvg(run);
  size_t total = 0;
  for (int k = 0; k < kMarkerKinds; ++k) {
    const auto kind = static_cast<MarkerKind>(k);
    const size_t want = CountKind(run, kind);
    EXPECT_EQ(CountOccurrences(
                  svg, absl::StrCat("class=\"mk mk-", MarkerClass(kind), "\"")),
              want)
        << MarkerClass(kind);
    total += want;
  }
  EXPECT_GT(CountKind(run, MarkerKind::kRestartFailed), 0u);
  EXPECT_GT(CountKind(run, MarkerKind::kLoss), 0u);
  EXPECT_EQ(CountOccurrences(svg, "class=\"mk "), total);
  EXPECT_THAT(svg, Not(HasSubstr("downsampled to at most")));
  ExpectWellFormed(svg);
}

TEST(TimelineSvg, HasALanePerReportAndOneForTheUnreachableHost) {
  const std::string svg = TimelineSvg(SampleLabRun());
  EXPECT_EQ(CountOccurrences(svg, "<g class=\"lane\">"), 5u);  // 2 + 2 + 1
  EXPECT_THAT(svg, HasSubstr("unreachable: UNAVAILABLE: failed to connect"));
  EXPECT_THAT(svg, HasSubstr("time since scenario start (ms)"));
}

TEST(TimelineSvg, EscapesHostNamesAndDetails) {
  const std::string svg = TimelineSvg(SampleLabRun());
  EXPECT_THAT(svg, HasSubstr("sim &lt;b&gt; &amp; &quot;co&quot;"));
  EXPECT_THAT(svg, Not(HasSubstr("<b>")));
}

TEST(TimelineSvg, GrowsWithTheNumberOfHosts) {
  const std::string small = TimelineSvg(ManyHostsRun(3, 1));
  const std::string big = TimelineSvg(ManyHostsRun(64, 1));
  EXPECT_EQ(CountOccurrences(big, "<g class=\"lane\">"), 64u);
  EXPECT_GT(HeightOf(big), HeightOf(small) + 60 * 17);
  ExpectWellFormed(big);
}

TEST(TimelineSvg, CapsLanesAndSaysHowManyWereLeftOut) {
  ChartOptions options;
  options.max_lanes = 10;
  const std::string svg = TimelineSvg(ManyHostsRun(64, 1), options);
  EXPECT_EQ(CountOccurrences(svg, "<g class=\"lane\">"), 10u);
  EXPECT_THAT(svg, HasSubstr("54 more lanes not drawn (limit 10)"));
}

TEST(TimelineSvg, DownsamplesAHugeTimelineAndKeepsTheCounts) {
  LabRun run;
  HostRun* host = run.add_hosts();
  host->set_host("busy");
  *host->add_reports() =
      SyntheticReport("storm", RESULT_PASS, 50000, 100, 7, 9);
  const size_t entries = 2 * 50000 + 100;
  const std::string svg = TimelineSvg(run);
  const size_t markers = CountOccurrences(svg, "class=\"mk ");
  EXPECT_LE(markers, ChartOptions().max_markers_per_lane);
  EXPECT_GT(markers, 50u);
  EXPECT_THAT(svg, HasSubstr("downsampled to at most 400 markers"));
  // Every entry is in exactly one marker: singles plus the data-n counts.
  size_t represented = markers - CountOccurrences(svg, "data-n=\"");
  for (size_t at = svg.find("data-n=\""); at != std::string::npos;
       at = svg.find("data-n=\"", at + 1)) {
    represented += std::stoul(svg.substr(at + 8));
  }
  EXPECT_EQ(represented, entries);
  EXPECT_LT(svg.size(), 400u * 1024);
  ExpectWellFormed(svg);
}

TEST(TimelineSvg, HandlesNoHostsAndExtremeTimes) {
  const std::string empty = TimelineSvg(LabRun());
  EXPECT_THAT(empty, HasSubstr("no hosts"));
  ExpectWellFormed(empty);

  LabRun run;
  HostRun* host = run.add_hosts();
  host->set_host("odd\x01host");
  Report* r = host->add_reports();
  *r->add_timeline() = Entry("event", "VM_ERR at the end of time", -5);
  r->mutable_timeline(0)->set_t_us(std::numeric_limits<uint64_t>::max());
  *r->add_timeline() = Entry("restart", "", 0);
  r->set_duration_ms(std::numeric_limits<uint64_t>::max());
  const std::string svg = TimelineSvg(run);
  EXPECT_EQ(CountOccurrences(svg, "class=\"mk "), 2u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_THAT(svg, Not(HasSubstr("inf")));
  ExpectWellFormed(svg);
}

}  // namespace
}  // namespace xehil::lab
