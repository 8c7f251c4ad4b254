// Run-wide totals over the recovery engines of a run, for the report and the
// restarts / latency expectations.
//
//   RestartCounts all = SumRestarts(state, "");
//   LatencySummary app = MergeLatency(state, "app");
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_TOTALS_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_TOTALS_H_

#include <string>

#include "core/scenario/internal/run_state.h"
#include "proto/scenario.pb.h"

namespace xehil::scenario_internal {

// Restart counters summed over the engines of `file` ("" : every file).
RestartCounts SumRestarts(RunState& state, const std::string& file);

// Event-to-restart latency over the engines of `file` ("" : every file),
// summarised from the union of their histograms.
LatencySummary MergeLatency(RunState& state, const std::string& file);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_TOTALS_H_
