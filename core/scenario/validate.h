// Semantic validation of a parsed xehil.Scenario: what the text format cannot
// say. Names are non-empty and unique (files, VMs after expanding `count`,
// expectation names), references point at existing files, VMs and pressure
// labels, numeric fields are in range (watch_id <= 255, ring_notes <= 512,
// start_after_step < number of steps, fractions in (0, 1], CountRange
// min <= max), VM flags are consistent (RESTARTABLE and FAULT_MODE need
// LR_MODE and exclude each other), and every step and check has its oneof
// set.
//
//   absl::Status s = ValidateScenario(scenario, "held.textproto");
//   // INVALID_ARGUMENT "held.textproto: steps[2].release_pressure: no
//   // inject_pressure with label 'vram'" (every problem, one per line)
#ifndef XEHIL_CORE_SCENARIO_VALIDATE_H_
#define XEHIL_CORE_SCENARIO_VALIDATE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil {

// OK, or INVALID_ARGUMENT listing every problem found, one per line, each
// "<source_name>: <field path>: <what is wrong>".
absl::Status ValidateScenario(const Scenario& scenario,
                              absl::string_view source_name);

// The names of a Vm entry's VMs: `name` alone, or name0..name<count-1>.
std::vector<std::string> ExpandVmNames(const Vm& vm);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_VALIDATE_H_
