// JSON reads back into the same LabRun; JUnit has one suite per host with
// correct counts and escaping; WriteLabReports writes atomically and turns
// I/O problems into errors naming the path.
#include "tools/lab/report/lab_report.h"

#include <dirent.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
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

std::string TmpDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void ExpectWellFormedXml(const std::string& xml) {
  EXPECT_TRUE(CheckWellFormedXml(xml).ok()) << CheckWellFormedXml(xml);
  const testing::XmllintResult lint = RunXmllint(xml, /*html=*/false);
  if (lint.available) {
    EXPECT_EQ(lint.exit_code, 0) << lint.output;
  }
}

TEST(LabRunToJson, RoundTripsThroughJsonStringToMessage) {
  for (const LabRun& run : {SampleLabRun(), ManyHostsRun(3, 2), LabRun()}) {
    const std::string json = LabRunToJson(run).value();
    EXPECT_EQ(json.back(), '\n');
    LabRun back;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &back).ok())
        << json;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(run, back))
        << back.DebugString();
  }
  EXPECT_THAT(LabRunToJson(SampleLabRun()).value(),
              HasSubstr("\"result\": \"RESULT_FAIL\""));
}

TEST(LabRunToJUnit, HasOneSuitePerHostWithItsCounts) {
  const std::string xml = LabRunToJUnit(SampleLabRun());
  EXPECT_EQ(CountOccurrences(xml, "<testsuite "), 3u);
  EXPECT_THAT(
      xml,
      HasSubstr("<testsuites name=\"xehil-lab\" tests=\"5\" failures=\"1\" "
                "errors=\"1\" skipped=\"1\" time=\"48.210\">"));
  EXPECT_THAT(
      xml,
      HasSubstr("<testsuite name=\"xe-dg2-01\" hostname=\"10.0.4.11:50051\" "
                "tests=\"2\" failures=\"0\" errors=\"0\" skipped=\"0\" "
                "time=\"21.400\">"));
  EXPECT_THAT(
      xml, HasSubstr("<testsuite name=\"sim &lt;b&gt; &amp; &quot;co&quot;\" "
                     "hostname=\"10.0.4.12:50051\" tests=\"2\" failures=\"1\" "
                     "errors=\"0\" skipped=\"1\""));
  EXPECT_THAT(
      xml,
      HasSubstr("<testsuite name=\"xe-bmg-03\" hostname=\"10.0.4.13:50051\" "
                "tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\""));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"xe-dg2-01\" "
                             "name=\"vram-pressure-recovers\" time=\""));
  EXPECT_EQ(CountOccurrences(xml, "<testcase "), 5u);
  EXPECT_EQ(CountOccurrences(xml, "<failure "), 1u);
  EXPECT_EQ(CountOccurrences(xml, "<skipped "), 1u);
  EXPECT_EQ(CountOccurrences(xml, "<error "), 1u);
  ExpectWellFormedXml(xml);
}

TEST(LabRunToJUnit, GivesAnUnreachableHostOneErrorTestcase) {
  const std::string xml = LabRunToJUnit(SampleLabRun());
  const std::string suite =
      xml.substr(xml.find("<testsuite name=\"xe-bmg-03\""));
  EXPECT_THAT(suite,
              HasSubstr("<testcase classname=\"xe-bmg-03\" name=\"host run\" "
                        "time=\"0.000\">\n      <error message=\"UNAVAILABLE: "
                        "failed to connect to all addresses"));
  EXPECT_THAT(suite,
              HasSubstr("type=\"UNAVAILABLE\">no scenario ran on xe-bmg-03"));
}

TEST(LabRunToJUnit, CountsAHostErrorNextToItsReports) {
  LabRun run = ManyHostsRun(2, 2);
  run.mutable_hosts(1)->set_error("DEADLINE_EXCEEDED: run took > 60 s & more");
  run.mutable_hosts(1)->mutable_reports(1)->set_result(RESULT_INCOMPLETE);
  const std::string xml = LabRunToJUnit(run);
  EXPECT_THAT(
      xml,
      HasSubstr("<testsuites name=\"xehil-lab\" tests=\"5\" failures=\"1\" "
                "errors=\"1\" skipped=\"0\""));
  EXPECT_THAT(
      xml,
      HasSubstr("name=\"host-001\" hostname=\"10.1.0.2:50051\" tests=\"3\" "
                "failures=\"1\" errors=\"1\""));
  EXPECT_THAT(
      xml,
      HasSubstr("message=\"DEADLINE_EXCEEDED: run took &gt; 60 s &amp; "
                "more\" type=\"DEADLINE_EXCEEDED\">not every scenario ran"));
  ExpectWellFormedXml(xml);
}

TEST(LabRunToJUnit, EscapesMarkupInNamesAndMessages) {
  LabRun run;
  HostRun* host = run.add_hosts();
  host->set_host("h<1>&\"x\"");
  host->set_error("oops: <bad> & \"worse\"");
  host->add_labels("k=<v>");
  Report* r = host->add_reports();
  r->set_scenario("s<&\">");
  r->set_result(RESULT_FAIL);
  r->set_reason("why <&\">");
  const std::string xml = LabRunToJUnit(run);
  EXPECT_THAT(xml, HasSubstr("name=\"h&lt;1&gt;&amp;&quot;x&quot;\""));
  EXPECT_THAT(xml, HasSubstr("classname=\"h&lt;1&gt;&amp;&quot;x&quot;\" "
                             "name=\"s&lt;&amp;&quot;&gt;\""));
  EXPECT_THAT(xml,
              HasSubstr("message=\"oops: &lt;bad&gt; &amp; &quot;worse&quot;\" "
                        "type=\"host-error\""));
  EXPECT_THAT(xml, HasSubstr("value=\"k=&lt;v&gt;\""));
  EXPECT_THAT(xml, Not(HasSubstr("<bad>")));
  ExpectWellFormedXml(xml);
}

TEST(LabRunToJUnit, IsValidForAnEmptyRun) {
  const std::string xml = LabRunToJUnit(LabRun());
  EXPECT_THAT(
      xml,
      HasSubstr("<testsuites name=\"xehil-lab\" tests=\"0\" failures=\"0\" "
                "errors=\"0\" skipped=\"0\" time=\"0.000\">\n</testsuites>\n"));
  ExpectWellFormedXml(xml);
}

TEST(WriteLabReports, WritesEachFileAndLeavesNoTemporaries) {
  const std::string dir = TmpDir() + "/write_all";
  ASSERT_EQ(system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()),
            0);
  const LabRun run = SampleLabRun();
  LabReportPaths paths{dir + "/lab.json", dir + "/lab.xml", dir + "/lab.html"};
  ASSERT_TRUE(WriteLabReports(run, paths).ok());
  EXPECT_EQ(ReadFile(paths.json), LabRunToJson(run).value());
  EXPECT_EQ(ReadFile(paths.junit), LabRunToJUnit(run));
  EXPECT_EQ(ReadFile(paths.html), LabRunToHtml(run));
  // Overwriting works too (rename over the old file).
  ASSERT_TRUE(WriteLabReports(LabRun(), paths).ok());
  EXPECT_EQ(ReadFile(paths.json), LabRunToJson(LabRun()).value());
  size_t files = 0;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr);
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    ++files;
    EXPECT_THAT(name, Not(HasSubstr(".tmp."))) << name;
  }
  closedir(d);
  EXPECT_EQ(files, 3u);
}

TEST(WriteLabReports, WritesNothingForEmptyPaths) {
  EXPECT_TRUE(WriteLabReports(SampleLabRun(), LabReportPaths()).ok());
}

TEST(WriteLabReports, NamesAnUnwritablePathAndStillWritesTheOthers) {
  const std::string dir = TmpDir() + "/write_some";
  ASSERT_EQ(system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "'").c_str()),
            0);
  LabReportPaths paths;
  paths.json = dir + "/missing-dir/lab.json";
  paths.html = dir + "/lab.html";
  const absl::Status status = WriteLabReports(SampleLabRun(), paths);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_THAT(status.message(), HasSubstr(paths.json));
  EXPECT_THAT(status.message(), HasSubstr("ENOENT"));
  EXPECT_EQ(ReadFile(paths.html), LabRunToHtml(SampleLabRun()));

  // A directory in the way: the rename fails; both errors are reported.
  paths.json = dir;
  paths.junit = dir + "/no/such/dir/lab.xml";
  const absl::Status both = WriteLabReports(SampleLabRun(), paths);
  EXPECT_FALSE(both.ok());
  EXPECT_THAT(both.message(), HasSubstr("writing " + dir + ":"));
  EXPECT_THAT(both.message(), HasSubstr("; also writing " + paths.junit));
}

}  // namespace
}  // namespace xehil::lab
