// Scenario steps: pressure, scripted faults, destroying VMs, closing files
// and the waits. Each runs on the runner thread once its at_ms has come.
// Where the environment can settle its device, fault and pressure steps
// return once the rebinds they queued have run, so the next step sees their
// outcome deterministically.
//
//   StepOutcome outcome = RunStep(state, index);
//   if (outcome.kind == StepOutcome::kTimedOut) ...  // the run's deadline
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_STEPS_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_STEPS_H_

#include <string>

#include "core/scenario/internal/run_state.h"

namespace xehil::scenario_internal {

struct StepOutcome {
  enum Kind {
    kDone,
    kSkipped,   // not possible on this backend; the run goes on
    kSkipRun,   // the scenario cannot run here at all (result SKIP)
    kFailed,    // the step went wrong (result INCOMPLETE)
    kTimedOut,  // the run's deadline passed during the step
  };
  Kind kind = kDone;
  std::string message;
};

StepOutcome RunStep(RunState& state, int index);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_STEPS_H_
