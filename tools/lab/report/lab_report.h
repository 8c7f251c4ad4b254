// Aggregated results of a lab run (xehil::lab::LabRun) for machines and for
// people: JSON (the proto's canonical JSON, reads back into a LabRun), JUnit
// XML (one <testsuite> per host) and one self-contained HTML page (inline CSS
// and SVG charts, no scripts, no external resources).
//
//   LabRun run = ...;                 // filled in by the controller
//   LabReportPaths paths;
//   paths.json = "lab.json";
//   paths.html = "lab.html";           // junit stays "": not written
//   absl::Status s = WriteLabReports(run, paths);
//   if (!s.ok()) std::cerr << s << "\n";   // names the path that failed
//
// All text from hosts and agents (names, errors, details) is escaped; the
// writers never fail on odd input, only on I/O.
#ifndef XEHIL_TOOLS_LAB_REPORT_LAB_REPORT_H_
#define XEHIL_TOOLS_LAB_REPORT_LAB_REPORT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/lab_controller.pb.h"

namespace xehil::lab {

// Where WriteLabReports writes; "" = not written.
struct LabReportPaths {
  std::string json, junit, html;
};

// Pretty-printed protobuf JSON (lowerCamelCase names, enums by name) ending
// in a newline; google::protobuf::util::JsonStringToMessage reads it back.
// The conversion's error (e.g. a string that is not UTF-8) if it fails.
absl::StatusOr<std::string> LabRunToJson(const LabRun& run);

// <testsuites> with one <testsuite name=host> per host, one <testcase
// classname=host name=scenario> per report (<failure> for FAIL, TIMEOUT and
// INCOMPLETE, <skipped> for SKIP, as core/scenario/report_writer.h renders
// it). A host with HostRun.error gets one more testcase, "host run", holding
// an <error> with the message (for an unreachable host it is the only one).
// tests/failures/errors/skipped are per suite and summed on <testsuites>.
std::string LabRunToJUnit(const LabRun& run);

// One HTML page: the run (start, duration, inventory, selector, scenarios),
// a colour-coded table with a row per host (<tr class="host-row ...">), an
// SVG timeline of watch events and restarts (tools/lab/report/
// timeline_chart.h), an SVG latency chart (latency_chart.h) and per-host
// details with every report's expectations and verdicts. Well-formed XML
// (XHTML syntax), so it also opens as XML.
std::string LabRunToHtml(const LabRun& run);

// Writes each requested file atomically (a temporary in the same directory,
// then rename), so readers never see a half-written report. Tries every
// path; on failure returns the first error (its code from the errno, e.g.
// NOT_FOUND, PERMISSION_DENIED) naming the path, plus any others.
absl::Status WriteLabReports(const LabRun& run, const LabReportPaths& paths);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_LAB_REPORT_H_
