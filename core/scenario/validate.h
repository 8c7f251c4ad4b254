// Semantic validation of a parsed xehil.Scenario: what the text format cannot
// say. Names are non-empty and unique (files, VMs after expanding `count`,
// expectation names), references point at existing files, VMs and pressure
// labels, numeric fields are in range (watch_id <= 255, ring_notes <= 512,
// start_after_step < number of steps, fractions in (0, 1], CountRange
// min <= max), VM flags are consistent (RESTARTABLE and FAULT_MODE need
// LR_MODE and exclude each other), and every step and check has its oneof
// set. Sizes and totals are bounded (ScenarioLimits) so that no value wraps
// an integer on its way to the device and no typo makes the setup run for
// hours.
//
//   absl::Status s = ValidateScenario(scenario, "held.textproto");
//   // INVALID_ARGUMENT "held.textproto: steps[2].release_pressure: no
//   // inject_pressure with label 'vram'" (every problem, one per line)
#ifndef XEHIL_CORE_SCENARIO_VALIDATE_H_
#define XEHIL_CORE_SCENARIO_VALIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil {

// What one scenario may ask for; proto/scenario.proto and the README name
// them. Far beyond any useful test, low enough to set up in seconds.
struct ScenarioLimits {
  static constexpr uint64_t kMaxFiles = 256;         // each has its threads
  static constexpr uint64_t kMaxVms = 65536;         // all files, after count
  static constexpr uint64_t kMaxBos = 262144;        // all VMs, after count
  static constexpr uint64_t kMaxExecQueues = 65536;  // all VMs, after count
  // A BO, all BOs of one VM (they share its 48-bit GPU address space), and
  // one pressure injection.
  static constexpr uint64_t kMaxBytes = uint64_t{1} << 48;
  static constexpr uint32_t kMaxRestartTries = 1000;  // VM_RESTART ioctls
  static constexpr uint32_t kMaxConsecutiveFailures = 1000000;
};

// OK, or INVALID_ARGUMENT listing every problem found, one per line, each
// "<source_name>: <field path>: <what is wrong>".
absl::Status ValidateScenario(const Scenario& scenario,
                              absl::string_view source_name);

// The names of a Vm entry's VMs: `name` alone, or name0..name<count-1>.
std::vector<std::string> ExpandVmNames(const Vm& vm);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_VALIDATE_H_
