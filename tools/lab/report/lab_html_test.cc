// The HTML page: a row per host, both charts, every marker, everything
// escaped, nothing loaded from elsewhere, and well-formed for XML and HTML
// parsers alike, from 0 to 64+ hosts.
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/report/lab_report.h"
#include "tools/lab/report/sample_lab_run.h"
#include "tools/lab/report/timeline_chart.h"
#include "tools/lab/report/xml_check.h"

namespace xehil::lab {
namespace {

using testing::CheckWellFormedXml;
using testing::CountOccurrences;
using ::testing::HasSubstr;
using testing::HtmlProblems;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::RunXmllint;

void ExpectWellFormedPage(const std::string& html) {
  EXPECT_TRUE(CheckWellFormedXml(html).ok()) << CheckWellFormedXml(html);
  const testing::XmllintResult xml = RunXmllint(html, /*html=*/false);
  if (!xml.available) return;  // the in-process check above still ran
  EXPECT_EQ(xml.exit_code, 0) << xml.output;
  const testing::XmllintResult as_html = RunXmllint(html, /*html=*/true);
  EXPECT_EQ(as_html.exit_code, 0) << as_html.output;
  EXPECT_THAT(HtmlProblems(as_html.output), IsEmpty()) << as_html.output;
}

size_t Markers(const LabRun& run) {
  size_t n = 0;
  for (const HostRun& h : run.hosts()) {
    for (const Report& r : h.reports()) {
      for (const TimelineEntry& e : r.timeline()) {
        n += e.kind() == "event" || e.kind() == "restart";
      }
    }
  }
  return n;
}

TEST(LabRunToHtml, HasARowPerHostBothChartsAndEveryMarker) {
  const LabRun run = SampleLabRun();
  const std::string html = LabRunToHtml(run);
  EXPECT_EQ(CountOccurrences(html, "<tr class=\"host-row"), 3u);
  EXPECT_EQ(CountOccurrences(html, "<svg "), 2u);
  EXPECT_EQ(CountOccurrences(html,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                             "class=\"chart timeline\""),
            1u);
  EXPECT_EQ(CountOccurrences(html,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" "
                             "class=\"chart latency\""),
            1u);
  EXPECT_GT(Markers(run), 100u);
  EXPECT_EQ(CountOccurrences(html, "class=\"mk "), Markers(run));
  EXPECT_EQ(CountOccurrences(html, "<section class=\"host\""), 3u);
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, ShowsRunFactsHostStatesAndExpectations) {
  const std::string html = LabRunToHtml(SampleLabRun());
  EXPECT_THAT(html, HasSubstr("<dd>2026-11-23 14:03:07.123 UTC</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd>48.2 s</dd>"));
  EXPECT_THAT(html, HasSubstr("<dd>gpu=xe</dd>"));
  EXPECT_THAT(html, HasSubstr("<li>scenarios/rebind_failures.textproto</li>"));
  EXPECT_THAT(html, HasSubstr("<span class=\"badge r-fail\">FAIL</span></h1>"));
  EXPECT_THAT(
      html, HasSubstr("<tr class=\"host-row st-pass\"><td><a href=\"#host-0\">"
                      "xe-dg2-01</a>"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"host-row st-fail\">"));
  EXPECT_THAT(html, HasSubstr("<tr class=\"host-row st-unreachable\">"));
  EXPECT_THAT(html,
              HasSubstr("<td class=\"err\">UNAVAILABLE: failed to connect"));
  EXPECT_THAT(
      html,
      HasSubstr("<td>restarts &lt;= 2 &amp; &quot;no failures&quot;</td>"
                "<td>restarts: failed 10 (want &lt;= 2) after 250 ms</td>"));
  EXPECT_THAT(html, HasSubstr("Skipped step: steps[1] (fault)"));
}

TEST(LabRunToHtml, HostLatencyColumnsSayTheyAreTheWorstScenarios) {
  const std::string html = LabRunToHtml(SampleLabRun());
  // The host row shows the highest per-scenario percentile, not host-wide
  // percentiles: the headers must say so.
  EXPECT_THAT(html, Not(HasSubstr("<th>p50</th>")));
  EXPECT_THAT(html, Not(HasSubstr("<th>p99</th>")));
  EXPECT_THAT(html, HasSubstr(">Worst scenario p50</th>"));
  EXPECT_THAT(html, HasSubstr(">Worst scenario p99</th>"));
}

TEST(LabRunToHtml, EscapesEverythingFromHostsAndAgents) {
  LabRun run = SampleLabRun();
  run.set_selector("a<b & c=\"d\"");
  run.add_scenarios("</li><script>alert(1)</script>");
  const std::string html = LabRunToHtml(run);
  EXPECT_THAT(html, HasSubstr("sim &lt;b&gt; &amp; &quot;co&quot;"));
  EXPECT_THAT(html, HasSubstr("a&lt;b &amp; c=&quot;d&quot;"));
  EXPECT_THAT(html, HasSubstr("&lt;/li&gt;&lt;script&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("sim <b>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, LoadsNothingFromElsewhere) {
  const std::string html = LabRunToHtml(SampleLabRun());
  const size_t xmlns =
      CountOccurrences(html, "xmlns=\"http://www.w3.org/2000/svg\"");
  EXPECT_EQ(xmlns, 2u);
  EXPECT_EQ(CountOccurrences(html, "http://"), xmlns);
  EXPECT_EQ(CountOccurrences(html, "https://"), 0u);
  for (const char* ref :
       {"<script", "<link", "<img", "<iframe", " src=", "url(", "@import"}) {
    EXPECT_THAT(html, Not(HasSubstr(ref))) << ref;
  }
}

TEST(LabRunToHtml, HandlesNoHosts) {
  const std::string html = LabRunToHtml(LabRun());
  EXPECT_EQ(CountOccurrences(html, "<tr class=\"host-row"), 0u);
  EXPECT_THAT(html, HasSubstr("No hosts in this run."));
  EXPECT_THAT(html, HasSubstr("NO RESULTS"));
  EXPECT_EQ(CountOccurrences(html, "<svg "), 2u);
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, HandlesAHostWithoutReportsOrError) {
  LabRun run;
  run.add_hosts()->set_host("idle");
  const std::string html = LabRunToHtml(run);
  EXPECT_THAT(html, HasSubstr("<tr class=\"host-row st-none\">"));
  EXPECT_THAT(html, HasSubstr("No reports."));
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, CountsUnknownResultValuesWithoutTrouble) {
  LabRun run = ManyHostsRun(1, 2);
  run.mutable_hosts(0)->mutable_reports(0)->set_result(static_cast<Result>(-7));
  run.mutable_hosts(0)->mutable_reports(1)->set_result(static_cast<Result>(99));
  const std::string html = LabRunToHtml(run);
  EXPECT_THAT(html, HasSubstr("2 UNSPECIFIED"));
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, ScalesTo64HostsWithALanePerHost) {
  const LabRun run = ManyHostsRun(64, 1);
  const std::string html = LabRunToHtml(run);
  EXPECT_EQ(CountOccurrences(html, "<tr class=\"host-row"), 64u);
  EXPECT_EQ(CountOccurrences(html, "<g class=\"lane\">"), 64u);
  EXPECT_EQ(CountOccurrences(html, "<g class=\"lat-row\">"), 64u);
  EXPECT_EQ(CountOccurrences(html, "class=\"mk "), Markers(run));
  ExpectWellFormedPage(html);
}

TEST(LabRunToHtml, StaysSmallForAHugeTimeline) {
  LabRun run = SampleLabRun();
  *run.mutable_hosts(0)->add_reports() =
      SyntheticReport("storm", RESULT_PASS, 100000, 50, 0, 11);
  const std::string html = LabRunToHtml(run);
  EXPECT_THAT(html, HasSubstr("downsampled to at most"));
  EXPECT_LT(html.size(), 1024u * 1024);
  ExpectWellFormedPage(html);
}

}  // namespace
}  // namespace xehil::lab
