// Report output: JSON reads back into the same ReportSet; JUnit XML has one
// testcase per scenario with failure/skipped elements and escaped text.
#include "core/scenario/report_writer.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Report Sample(const std::string& name, Result result) {
  Report r;
  r.set_scenario(name);
  r.set_source("scenarios/" + name + ".textproto");
  r.set_backend("sim");
  r.set_device("simulated dg2-16g <VRAM 16 GiB>");
  r.set_policy("default");
  r.set_result(result);
  r.set_duration_ms(1250);
  ExpectationResult* ok = r.add_expectations();
  ok->set_name("recovered");
  ok->set_result(RESULT_PASS);
  ok->set_message("all_healthy: 1 of 1 VMs healthy after 3 ms");
  if (result == RESULT_FAIL) {
    ExpectationResult* bad = r.add_expectations();
    bad->set_name("count \"5\" & <more>");
    bad->set_result(RESULT_FAIL);
    bad->set_message("events_seen: saw 1 (want >= 5) after 200 ms");
    r.set_reason("1 of 2 expectations failed: count \"5\" & <more>");
  }
  if (result == RESULT_SKIP) r.set_reason("no VRAM on 'lnl' & co");
  TimelineEntry* t = r.add_timeline();
  t->set_t_us(42);
  t->set_kind("event");
  t->set_error(-12);
  r.mutable_restarts()->set_tried(3);
  r.mutable_latency()->set_p99_us(12.5);
  r.add_skipped_steps("steps[1] (fault): scripted faults need the simulator");
  return r;
}

TEST(ReportSetToJson, RoundTripsThroughJsonStringToMessage) {
  ReportSet set;
  *set.add_reports() = Sample("a", RESULT_PASS);
  *set.add_reports() = Sample("b", RESULT_FAIL);
  absl::StatusOr<std::string> converted = ReportSetToJson(set);
  ASSERT_TRUE(converted.ok()) << converted.status();
  const std::string& json = *converted;
  EXPECT_THAT(json, HasSubstr("\"result\": \"RESULT_FAIL\""));
  EXPECT_THAT(json, HasSubstr("\"skippedSteps\""));
  EXPECT_EQ(json.back(), '\n');
  ReportSet back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(set, back))
      << back.DebugString();
}

TEST(ReportsToJunitXml, OneTestcasePerScenarioWithEscapedOutcomes) {
  const std::string xml =
      ReportsToJunitXml({Sample("a", RESULT_PASS), Sample("b", RESULT_FAIL),
                         Sample("c", RESULT_SKIP), Sample("d", RESULT_TIMEOUT)},
                        "xehil<sim>");
  EXPECT_THAT(xml, HasSubstr("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"xehil&lt;sim&gt;\" tests=\"4\" "
                             "failures=\"2\" skipped=\"1\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"xehil&lt;sim&gt;\" "
                             "name=\"a\" time=\"1.250\">"));
  EXPECT_THAT(xml, HasSubstr("<failure message=\"FAIL: 1 of 2 expectations "
                             "failed: count &quot;5&quot; &amp; &lt;more&gt;"));
  EXPECT_THAT(xml, HasSubstr("events_seen: saw 1 (want &gt;= 5)"));
  EXPECT_THAT(xml, HasSubstr("type=\"TIMEOUT\""));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"no VRAM on &apos;lnl&apos; "
                             "&amp; co\"/>"));
  EXPECT_THAT(xml, HasSubstr("<system-out>result: PASS\n"));
  EXPECT_THAT(xml, HasSubstr("PASS recovered: all_healthy: 1 of 1 VMs"));
  EXPECT_THAT(xml, HasSubstr("simulated dg2-16g &lt;VRAM 16 GiB&gt;"));
  EXPECT_THAT(xml, Not(HasSubstr("<more>")));
  EXPECT_THAT(xml, HasSubstr("</testsuite>\n</testsuites>\n"));
  // Every testcase is closed; a passing one has neither failure nor skip.
  size_t opened = 0, closed = 0;
  for (size_t at = 0; (at = xml.find("<testcase ", at)) != std::string::npos;
       ++at) {
    ++opened;
  }
  for (size_t at = 0; (at = xml.find("</testcase>", at)) != std::string::npos;
       ++at) {
    ++closed;
  }
  EXPECT_EQ(opened, 4u);
  EXPECT_EQ(closed, 4u);
  const std::string first = xml.substr(
      xml.find("name=\"a\""), xml.find("name=\"b\"") - xml.find("name=\"a\""));
  EXPECT_THAT(first, Not(HasSubstr("<failure")));
  EXPECT_THAT(first, Not(HasSubstr("<skipped")));
}

TEST(ReportToJunitTestcase, IsWhatTheSuiteWriterEmbeds) {
  const Report r = Sample("b", RESULT_FAIL);
  const std::string testcase = ReportToJunitTestcase(r, "host<1>");
  EXPECT_THAT(testcase, HasSubstr("<testcase classname=\"host&lt;1&gt;\" "
                                  "name=\"b\" time=\"1.250\">"));
  EXPECT_THAT(ReportsToJunitXml({r}, "host<1>"), HasSubstr(testcase));
  EXPECT_TRUE(IsFailingResult(RESULT_INCOMPLETE));
  EXPECT_FALSE(IsFailingResult(RESULT_SKIP));
}

TEST(XmlEscape, EscapesMarkupAndDropsControlCharacters) {
  EXPECT_EQ(XmlEscape("a<b>&\"c'\x01\td\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;?\td\n");
}

TEST(ResultName, NamesEveryResult) {
  EXPECT_EQ(ResultName(RESULT_PASS), "PASS");
  EXPECT_EQ(ResultName(RESULT_INCOMPLETE), "INCOMPLETE");
  EXPECT_EQ(ResultName(RESULT_UNSPECIFIED), "UNSPECIFIED");
}

}  // namespace
}  // namespace xehil
