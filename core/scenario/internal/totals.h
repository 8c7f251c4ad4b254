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

// Latency summaries merged over the engines of `file` ("" : every file):
// counts add up; percentiles and max take the largest engine's value (the
// engines keep summaries, not mergeable histograms), so with several
// engines a percentile is an upper bound.
LatencySummary MergeLatency(RunState& state, const std::string& file);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_TOTALS_H_
