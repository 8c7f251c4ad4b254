#include "environment/sim_environment.h"

#include <utility>

#include "core/scenario/runner.h"
#include "sim/device_capabilities.h"
#include "sim/sim_backend.h"
#include "sim/sim_pressure_injector.h"

namespace xehil {

namespace {
constexpr char kDefaultProfile[] = "dg2-16g";
}  // namespace

std::string SimProfileFor(const std::string& scenario_profile,
                          const std::string& override_profile) {
  if (!override_profile.empty()) return override_profile;
  if (!scenario_profile.empty()) return scenario_profile;
  return kDefaultProfile;
}

RunEnvironment MakeSimEnvironmentOn(std::shared_ptr<sim::Device> device) {
  RunEnvironment env;
  // The environment owns the device, so its files may hold it weakly.
  std::weak_ptr<sim::Device> weak = device;
  env.open_file = [weak]() -> absl::StatusOr<OpenedFile> {
    std::shared_ptr<sim::Device> device = weak.lock();
    if (device == nullptr) {
      return absl::FailedPreconditionError("the simulated device is gone");
    }
    std::unique_ptr<sim::SimBackend> file = device->Open();
    const uint64_t id = file->file_id();
    return OpenedFile{std::move(file), id};
  };
  auto caps = std::make_shared<sim::DeviceCapabilities>(device);
  env.faults = caps.get();
  env.observer = caps.get();
  auto pressure = std::make_shared<SimPressureInjector>(device);
  env.pressure = pressure.get();
  env.backend_name = "sim";
  env.device_description = device->Description();
  env.owned = {std::move(caps), std::move(pressure), std::move(device)};
  return env;
}

absl::StatusOr<RunEnvironment> MakeSimEnvironment(const std::string& profile) {
  absl::StatusOr<std::shared_ptr<sim::Device>> device =
      sim::Device::Create(profile.empty() ? kDefaultProfile : profile);
  if (!device.ok()) return device.status();
  RunEnvironment env = MakeSimEnvironmentOn(*std::move(device));
  env.private_device = true;
  return env;
}

absl::StatusOr<Report> RunScenarioOnSim(const Scenario& scenario,
                                        const RunOptions& options,
                                        const std::string& profile) {
  absl::StatusOr<RunEnvironment> env =
      MakeSimEnvironment(SimProfileFor(scenario.device_profile(), profile));
  if (!env.ok()) return env.status();
  return RunScenario(scenario, *env, options);
}

}  // namespace xehil
