#include "core/scenario/run_environment.h"

#include <utility>

#include "core/pressure/sim_pressure_injector.h"
#include "sim/sim_backend.h"

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

absl::StatusOr<RunEnvironment> MakeSimEnvironment(const std::string& profile) {
  absl::StatusOr<std::shared_ptr<sim::Device>> device =
      sim::Device::Create(profile.empty() ? kDefaultProfile : profile);
  if (!device.ok()) return device.status();
  RunEnvironment env;
  env.sim_device = *std::move(device);
  std::weak_ptr<sim::Device> weak = env.sim_device;
  env.open_file = [weak]() -> absl::StatusOr<std::unique_ptr<KernelBackend>> {
    std::shared_ptr<sim::Device> device = weak.lock();
    if (device == nullptr) {
      return absl::FailedPreconditionError("the simulated device is gone");
    }
    return std::unique_ptr<KernelBackend>(device->Open());
  };
  env.owned_pressure = std::make_shared<SimPressureInjector>(env.sim_device);
  env.pressure = env.owned_pressure.get();
  env.backend_name = "sim";
  env.device_description = env.sim_device->Description();
  return env;
}

}  // namespace xehil
