// RunScenario: runs one xehil.Scenario against a RunEnvironment (simulator
// or a kernel) with a recovery policy, and returns its Report.
//
// Setup opens each file, creates its VMs, BOs (bound at increasing
// addresses) and exec queues and, for a file with a watch, subscribes a
// notification pipe and starts a RecoveryEngine with the policy and a
// Listener posting to it (a late listener, Watch.start_after_step, is started
// after that step). The steps then run in order, each not before its at_ms
// after setup; then each expectation is checked until it holds or its
// within_ms (from the end of the steps) passes, waking on engine and
// listener progress (no polling).
//
// Where the environment can inject faults or observe VMs, a fault step ends
// once the rebinds it queued have run, and each check first lets the
// device's rebind worker go idle, so scenarios are deterministic there.
//
//   XEHIL_ASSIGN_OR_RETURN(Scenario s, LoadScenarioFile(path));
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<RunEnvironment> env,
//                          OpenEnvironment("sim"));  // environment/registry.h
//   RunOptions options;
//   options.source = path;
//   options.on_progress = [](const Progress& p) { std::puts(p.text.c_str()); };
//   XEHIL_ASSIGN_OR_RETURN(Report report, RunScenario(s, *env, options));
//   // report.result(): RESULT_PASS iff every expectation passed.
//
// Results: PASS / FAIL by the expectations (SKIP when none failed but some
// could not be checked on this backend); TIMEOUT when scenario.timeout_ms
// (default 30 s) passed first; INCOMPLETE when setup or a step failed (the
// reason says which); SKIP when the backend lacks what the setup needs
// (e.g. a VRAM-only BO on a device without VRAM). Errors (a non-OK status)
// are only for an unusable environment or an invalid scenario.
//
// Thread-safety: RunScenario may run concurrently on different environments.
// `on_progress` is called from the runner's, the listeners' and the engines'
// threads, one call at a time.
#ifndef XEHIL_CORE_SCENARIO_RUNNER_H_
#define XEHIL_CORE_SCENARIO_RUNNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/run_options.h"
#include "proto/scenario.pb.h"

namespace xehil {

// Validates `scenario` (INVALID_ARGUMENT naming options.source), then runs
// it. INVALID_ARGUMENT too if `env.open_file` is empty.
absl::StatusOr<Report> RunScenario(const Scenario& scenario,
                                   RunEnvironment& env,
                                   const RunOptions& options);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_RUNNER_H_
