#include "core/scenario/report_writer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/proto_json.h"

namespace xehil {
namespace {

// One line per expectation: "PASS name: message".
std::string ExpectationLines(const Report& report) {
  std::string out;
  for (const ExpectationResult& e : report.expectations()) {
    absl::StrAppend(&out, ResultName(e.result()), " ", e.name(), ": ",
                    e.message(), "\n");
  }
  return out;
}

std::string FailureMessage(const Report& report) {
  std::vector<std::string> failed;
  for (const ExpectationResult& e : report.expectations()) {
    if (IsFailingResult(e.result())) {
      failed.push_back(absl::StrCat(e.name(), ": ", e.message()));
    }
  }
  std::string message = ResultName(report.result());
  if (!report.reason().empty())
    absl::StrAppend(&message, ": ", report.reason());
  if (!failed.empty()) {
    absl::StrAppend(&message, " | ", absl::StrJoin(failed, " | "));
  }
  return message;
}

}  // namespace

bool IsFailingResult(Result result) {
  return result == RESULT_FAIL || result == RESULT_TIMEOUT ||
         result == RESULT_INCOMPLETE;
}

std::string ResultName(Result result) {
  switch (result) {
    case RESULT_PASS:
      return "PASS";
    case RESULT_FAIL:
      return "FAIL";
    case RESULT_SKIP:
      return "SKIP";
    case RESULT_TIMEOUT:
      return "TIMEOUT";
    case RESULT_INCOMPLETE:
      return "INCOMPLETE";
    default:
      return "UNSPECIFIED";
  }
}

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

absl::StatusOr<std::string> ReportSetToJson(const ReportSet& reports) {
  return ProtoToJson(reports, "report", /*pretty=*/true);
}

std::string ReportToJunitTestcase(const Report& r,
                                  absl::string_view classname) {
  std::string xml;
  absl::StrAppendFormat(&xml,
                        "    <testcase classname=\"%s\" name=\"%s\" "
                        "time=\"%.3f\">\n",
                        XmlEscape(classname), XmlEscape(r.scenario()),
                        r.duration_ms() / 1000.0);
  if (IsFailingResult(r.result())) {
    absl::StrAppendFormat(&xml, "      <failure message=\"%s\" type=\"%s\"/>\n",
                          XmlEscape(FailureMessage(r)), ResultName(r.result()));
  } else if (r.result() == RESULT_SKIP) {
    absl::StrAppendFormat(&xml, "      <skipped message=\"%s\"/>\n",
                          XmlEscape(r.reason()));
  }
  std::string out = absl::StrCat("result: ", ResultName(r.result()), "\n");
  if (!r.reason().empty()) absl::StrAppend(&out, "reason: ", r.reason(), "\n");
  absl::StrAppend(&out, "backend: ", r.backend(), " (", r.device(),
                  "), policy: ", r.policy(), "\n", ExpectationLines(r));
  for (const std::string& s : r.skipped_steps()) {
    absl::StrAppend(&out, "skipped ", s, "\n");
  }
  absl::StrAppend(&xml, "      <system-out>", XmlEscape(out),
                  "</system-out>\n    </testcase>\n");
  return xml;
}

std::string ReportsToJunitXml(const std::vector<Report>& reports,
                              const std::string& suite_name) {
  int failures = 0, skipped = 0;
  uint64_t total_ms = 0;
  for (const Report& r : reports) {
    failures += IsFailingResult(r.result());
    skipped += r.result() == RESULT_SKIP;
    total_ms += r.duration_ms();
  }
  const std::string suite = XmlEscape(suite_name);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  absl::StrAppendFormat(
      &xml,
      "<testsuites tests=\"%d\" failures=\"%d\" skipped=\"%d\" "
      "time=\"%.3f\">\n"
      "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" skipped=\"%d\" "
      "errors=\"0\" time=\"%.3f\">\n",
      reports.size(), failures, skipped, total_ms / 1000.0, suite,
      reports.size(), failures, skipped, total_ms / 1000.0);
  for (const Report& r : reports) {
    xml += ReportToJunitTestcase(r, suite_name);
  }
  xml += "  </testsuite>\n</testsuites>\n";
  return xml;
}

std::string DescribeReport(const Report& report) {
  std::string out =
      absl::StrCat(ResultName(report.result()), " ", report.scenario());
  if (!report.reason().empty()) absl::StrAppend(&out, ": ", report.reason());
  absl::StrAppend(&out, "\n", ExpectationLines(report));
  for (const std::string& s : report.skipped_steps()) {
    absl::StrAppend(&out, "skipped ", s, "\n");
  }
  return out;
}

}  // namespace xehil
