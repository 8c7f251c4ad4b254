#include "environment/daemon_capabilities.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/simd/control_capabilities.h"
#include "sim/simd/control_pressure_injector.h"

namespace xehil {

absl::Status AttachDaemonCapabilities(const std::string& control_socket,
                                      RunEnvironment& env) {
  absl::StatusOr<std::unique_ptr<simd::ControlCapabilities>> control =
      simd::ControlCapabilities::Connect(control_socket);
  if (!control.ok()) {
    return absl::Status(
        control.status().code(),
        absl::StrCat("the device daemon's control socket ", control_socket,
                     ": ", control.status().message()));
  }
  std::shared_ptr<simd::ControlCapabilities> caps = *std::move(control);
  auto pressure = std::make_shared<simd::ControlPressureInjector>(caps);
  env.faults = caps.get();
  env.observer = caps.get();
  env.pressure = pressure.get();
  env.owned.push_back(std::move(pressure));
  env.owned.push_back(std::move(caps));
  return absl::OkStatus();
}

}  // namespace xehil
