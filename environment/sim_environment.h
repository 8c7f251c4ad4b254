// The in-process simulator as a RunEnvironment: files opened with
// sim::Device::Open(), fault injection and the VM observer on the device
// itself (sim::DeviceCapabilities), pressure from a SimPressureInjector.
//
//   XEHIL_ASSIGN_OR_RETURN(RunEnvironment env, MakeSimEnvironment("bmg-12g"));
//   XEHIL_ASSIGN_OR_RETURN(Report report, RunScenario(scenario, env, {}));
//
// Most callers go through OpenEnvironment("sim:PROFILE") (registry.h).
#ifndef XEHIL_ENVIRONMENT_SIM_ENVIRONMENT_H_
#define XEHIL_ENVIRONMENT_SIM_ENVIRONMENT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/run_options.h"
#include "proto/scenario.pb.h"
#include "sim/device.h"

namespace xehil {

// A fresh simulated device with the named built-in profile ("dg2-16g",
// "bmg-12g", "lnl-igpu"; "" means "dg2-16g"). NOT_FOUND for an unknown
// profile (the message lists the known ones).
absl::StatusOr<RunEnvironment> MakeSimEnvironment(const std::string& profile);

// An environment on a device the caller keeps (the agent's long-lived one).
RunEnvironment MakeSimEnvironmentOn(std::shared_ptr<sim::Device> device);

// The profile a scenario runs on in the simulator: `override_profile` if set,
// else the scenario's device_profile, else "dg2-16g".
std::string SimProfileFor(const std::string& scenario_profile,
                          const std::string& override_profile);

// A fresh simulator environment (SimProfileFor) and RunScenario. The
// report's device names the profile used.
absl::StatusOr<Report> RunScenarioOnSim(const Scenario& scenario,
                                        const RunOptions& options,
                                        const std::string& profile = "");

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_SIM_ENVIRONMENT_H_
