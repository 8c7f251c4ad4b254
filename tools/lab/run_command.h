// `xehil-lab run`: scenario files run on every selected host at once (a
// bounded pool of host workers; on one host the runs go one after another),
// with live progress lines prefixed by the host name, a per-host summary
// table and the aggregated result as a LabRun (proto/lab_controller.proto)
// for the JSON, JUnit and HTML reports.
//
//   xehil-lab run scenarios/ --hosts=sim --html=lab.html
//   sim-1 | [1/13] eagain_beyond_bound (scenarios/eagain_beyond_bound...)
//   sim-1 |     0.3ms  setup: 1 file, 1 VM
//   ...
//   HOST   ADDRESS          RESULT  RUNS  PASS  FAIL  SKIP  OTHER  TIME
//   sim-1  127.0.0.1:41003  PASS      13    13     0     0      0  2.31s
//
// A host that cannot be reached, or refuses a run, gets its error in its
// HostRun and the remaining runs on it are not attempted; the other hosts
// carry on. RunScenario is retried on UNAVAILABLE only before the agent
// sent anything (afterwards the run is under way and cannot be repeated).
#ifndef XEHIL_TOOLS_LAB_RUN_COMMAND_H_
#define XEHIL_TOOLS_LAB_RUN_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "proto/lab_controller.pb.h"
#include "proto/scenario.pb.h"
#include "tools/lab/lab_hosts.h"
#include "tools/lab/output.h"

namespace xehil::lab {

struct LabRunOptions {
  int repeat = 1;
  uint64_t seed = 0;
  bool isolated_device = false;  // sim agents: a fresh device per run
  bool quiet = false;            // only each run's result line and the summary
  bool verbose = false;          // also every event and restart
};

// A scenario and the file it came from.
struct ScenarioFile {
  Scenario scenario;
  std::string source;
};

// Runs every scenario `repeat` times on every host of `lab`.
LabRun RunOnHosts(LabHosts& lab, const std::vector<ScenarioFile>& scenarios,
                  const LabRunOptions& options, LinePrinter& out);

// True when every host ran everything and no report failed (PASS or SKIP).
bool LabRunPassed(const LabRun& run);

// The per-host table, the failed runs and a count line.
std::string FormatRunSummary(const LabRun& run);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_RUN_COMMAND_H_
