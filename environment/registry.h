// The one place that turns an environment's name into a RunEnvironment, for
// the CLI, the agent, hwtest and test harnesses alike:
//
//   sim              a fresh simulated device (the defaults' profile)
//   sim:PROFILE      ... with a built-in profile: dg2-16g, bmg-12g, lnl-igpu
//   simd             the xehil-simd daemon at its default socket
//   simd:SOCKET      ... at SOCKET
//   xe               the first xe render node (vxe inside `xehil vm-run`)
//   xe:NODE          ... the render node NODE, e.g. /dev/dri/renderD128
//
//   XEHIL_ASSIGN_OR_RETURN(RunEnvironment env, OpenEnvironment("sim:bmg-12g"));
//   if (env.faults == nullptr) std::cout << env.faults_missing;
#ifndef XEHIL_ENVIRONMENT_REGISTRY_H_
#define XEHIL_ENVIRONMENT_REGISTRY_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/scenario/run_environment.h"

namespace xehil {

struct EnvironmentName {
  std::string kind;      // "sim", "simd" or "xe"
  std::string argument;  // after the colon; may be empty
};

// INVALID_ARGUMENT naming the accepted forms for anything else.
absl::StatusOr<EnvironmentName> ParseEnvironmentName(absl::string_view name);

struct EnvironmentDefaults {
  // The profile for a plain "sim" (e.g. the scenario's device_profile);
  // empty: dg2-16g.
  std::string sim_profile;
};

// Opens the named environment. INVALID_ARGUMENT for a malformed name, else
// what the environment's maker says (NOT_FOUND for an unknown profile or a
// missing xe node, UNAVAILABLE for a daemon that does not answer, ...).
absl::StatusOr<RunEnvironment> OpenEnvironment(
    absl::string_view name, const EnvironmentDefaults& defaults = {});

// The accepted forms, one per line, for --help texts.
const char* EnvironmentNamesHelp();

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_REGISTRY_H_
