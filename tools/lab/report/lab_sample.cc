// Writes the report writers' sample page (a synthetic 3-host lab run) so
// people can look at it:
//   lab_sample [PATH] [--storm]
// PATH defaults to /tmp/lab_sample.html; --storm adds a 100k-event report to
// the first host, to see a downsampled timeline lane.
#include <iostream>
#include <string>

#include "tools/lab/report/lab_report.h"
#include "tools/lab/report/sample_lab_run.h"

int main(int argc, char** argv) {
  xehil::lab::LabReportPaths paths;
  paths.html = "/tmp/lab_sample.html";
  bool storm = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--storm") {
      storm = true;
    } else {
      paths.html = arg;
    }
  }
  xehil::lab::LabRun run = xehil::lab::SampleLabRun();
  if (storm) {
    *run.mutable_hosts(0)->add_reports() = xehil::lab::SyntheticReport(
        "restart-storm", xehil::RESULT_PASS, 50000, 40, 9, 7);
  }
  const absl::Status status = xehil::lab::WriteLabReports(run, paths);
  if (!status.ok()) {
    std::cerr << "lab_sample: " << status << "\n";
    return 1;
  }
  std::cout << "wrote " << paths.html << "\n";
  return 0;
}
