#include "environment/testing.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/scenario/loader.h"
#include "core/scenario/runner.h"
#include "environment/registry.h"

namespace xehil {

absl::StatusOr<Report> RunScenarioFileOn(absl::string_view environment,
                                         const std::string& path,
                                         PolicyFactory policy) {
  absl::StatusOr<Scenario> scenario = LoadScenarioFile(RunfilesPath(path));
  if (!scenario.ok()) return scenario.status();
  EnvironmentDefaults defaults;
  defaults.sim_profile = scenario->device_profile();
  absl::StatusOr<RunEnvironment> env = OpenEnvironment(environment, defaults);
  if (!env.ok()) return env.status();
  RunOptions options;
  options.policy_factory = std::move(policy);
  options.source = path;
  return RunScenario(*scenario, *env, options);
}

absl::StatusOr<Report> RunScenarioFileOnSim(const std::string& path,
                                            PolicyFactory policy,
                                            std::string profile) {
  return RunScenarioFileOn(
      profile.empty() ? "sim" : absl::StrCat("sim:", profile), path,
      std::move(policy));
}

}  // namespace xehil
