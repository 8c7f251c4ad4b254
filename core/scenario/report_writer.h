// Report output: JSON (the proto's canonical JSON mapping, what `xehil run
// --report-json` writes) and JUnit XML (one <testcase> per scenario, for CI
// systems that read gtest-style results).
//
//   ReportSet set;
//   *set.add_reports() = report;
//   XEHIL_ASSIGN_OR_RETURN(std::string json, ReportSetToJson(set));
//   WriteFile("out.json", json);
//   WriteFile("out.xml", ReportsToJunitXml({report}, "xehil"));
//   // JSON reads back with google::protobuf::util::JsonStringToMessage.
#ifndef XEHIL_CORE_SCENARIO_REPORT_WRITER_H_
#define XEHIL_CORE_SCENARIO_REPORT_WRITER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil {

// Pretty-printed JSON with the proto field names (lowerCamelCase), enums by
// name, ending in a newline. The conversion's error (e.g. a string that is
// not UTF-8) if it fails: never an empty or partial report.
absl::StatusOr<std::string> ReportSetToJson(const ReportSet& reports);

// A JUnit XML document: <testsuites><testsuite name=suite_name tests= ...>
// with one <testcase classname=suite_name name=scenario time=seconds> per
// report. FAIL, TIMEOUT and INCOMPLETE get a <failure message=...> listing
// the failed expectations (or the reason); SKIP gets <skipped message=.../>;
// every expectation's outcome goes to <system-out>. Everything is escaped.
std::string ReportsToJunitXml(const std::vector<Report>& reports,
                              const std::string& suite_name);

// One <testcase> element as ReportsToJunitXml writes it (indented four
// spaces, ending in a newline), for writers that group reports differently
// (the lab controller: one <testsuite> per host).
std::string ReportToJunitTestcase(const Report& report,
                                  absl::string_view classname);

// Whether JUnit counts `result` as a failure: FAIL, TIMEOUT, INCOMPLETE.
bool IsFailingResult(Result result);

// "PASS", "FAIL", "SKIP", "TIMEOUT", "INCOMPLETE" ("UNSPECIFIED" for 0).
std::string ResultName(Result result);

// Escapes &, <, >, " and ' for XML text and attributes; control characters
// other than tab, CR and LF (not allowed in XML 1.0) become '?'.
std::string XmlEscape(absl::string_view text);

// A few lines for people: result, reason and each expectation's outcome.
std::string DescribeReport(const Report& report);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_REPORT_WRITER_H_
