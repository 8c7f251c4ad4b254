// `xehil run` and `xehil list`: scenario files on the command line.
//
//   xehil run scenarios/ --backend=sim --report-json=out.json --junit=out.xml
//   xehil list scenarios/transient_enomem.textproto
//
// Arguments are .textproto files or directories (their *.textproto files, in
// name order).
#ifndef XEHIL_TOOLS_XEHIL_RUN_COMMAND_H_
#define XEHIL_TOOLS_XEHIL_RUN_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace xehil {

struct RunCommandOptions {
  std::vector<std::string> paths;
  std::string backend = "sim";
  std::string device_profile;  // sim: overrides each scenario's profile
  std::string xe_path;         // xe: render node; "" discovers
  std::string report_json;     // write a ReportSet here
  std::string junit;           // write JUnit XML here
  std::string html;            // write the lab's HTML page (one host) here
  int repeat = 1;
  uint64_t seed = 0;
  bool verbose = false;  // also print events and restarts
  bool tty = false;      // live spinner line instead of event lines
};

// Expands files and directories into scenario file paths (sorted within a
// directory). INVALID_ARGUMENT for a path that is neither (saying what it is:
// a FIFO, a device, ... or that it does not exist), or a directory without
// scenarios.
absl::StatusOr<std::vector<std::string>> ExpandScenarioPaths(
    const std::vector<std::string>& paths);

// Runs every scenario `repeat` times and prints progress and a summary
// table. Returns the exit code: 0 when no run failed (PASS or SKIP), 1
// otherwise or when a file or the backend could not be used, 2 when an
// output path (--report-json, --junit, --html) is in a directory that does
// not exist or cannot be written (found before anything runs).
int RunScenarios(const RunCommandOptions& options, std::ostream& out,
                 std::ostream& err);

// Prints each scenario's name, description, setup and expectations. Exit
// code 0, or 1 if a file could not be read.
int ListScenarios(const std::vector<std::string>& paths, std::ostream& out,
                  std::ostream& err);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_RUN_COMMAND_H_
