// Scenario setup: opens the files of Setup, creates their VMs, BOs (bound at
// increasing addresses) and exec queues, and for each watched file subscribes
// a notification pipe and starts a RecoveryEngine (with the policy under test
// wrapped in ObservingPolicy) and, unless it starts late, its Listener.
//
//   SetupOutcome outcome = SetUp(state);
//   if (outcome.kind == SetupOutcome::kSkip) ...  // the backend lacks
//   something
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_SETUP_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_SETUP_H_

#include <cstdint>
#include <optional>
#include <string>

#include "core/scenario/internal/run_state.h"

namespace xehil::scenario_internal {

struct SetupOutcome {
  enum Kind {
    kOk,
    kSkip,      // the device or backend lacks what the scenario needs
    kFailed,    // something that should have worked did not
    kTimedOut,  // the scenario's deadline passed before the setup was done
  };
  Kind kind = kOk;
  std::string reason;
  int bos = 0;  // BOs created
};

// Stops at the run's deadline (checked before each file and VM), so that
// `timeout_ms` bounds the setup too.
SetupOutcome SetUp(RunState& state);

// Region instances of the device (from state.regions).
std::optional<uint16_t> VramInstance(const RunState& state);
uint16_t SystemInstance(const RunState& state);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_SETUP_H_
