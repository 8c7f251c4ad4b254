// Expectation checks. Each is evaluated until it holds or its deadline
// (steps_end + within_ms, cut by the run's deadline) passes, waking on the
// run's notifications; the result's message states what was seen.
//
//   ExpectationResult r = CheckExpectation(state, scenario.expectations(0));
//   // r.result() is PASS, FAIL, SKIP (not checkable on this backend) or
//   // TIMEOUT (the run's deadline cut the wait short)
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_EXPECTATIONS_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_EXPECTATIONS_H_

#include "core/scenario/internal/run_state.h"
#include "proto/scenario.pb.h"

namespace xehil::scenario_internal {

ExpectationResult CheckExpectation(RunState& state,
                                   const Expectation& expectation);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_EXPECTATIONS_H_
