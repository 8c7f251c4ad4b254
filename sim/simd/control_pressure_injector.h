// simd::ControlPressureInjector ("simd"): memory pressure on a device
// daemon's simulated GPU (xehil-simd, or the vxe guest daemon) through its
// control channel's inject_pressure / release_pressure.
//
//   std::shared_ptr<ControlCapabilities> control =
//   *ControlCapabilities::Connect(path); ControlPressureInjector
//   injector(control); auto lease = injector.Acquire({/*region_instance=*/1, 12
//   << 20});
//
// Thread-safe; leases keep the control connection and may outlive the
// injector.
#ifndef XEHIL_SIM_SIMD_CONTROL_PRESSURE_INJECTOR_H_
#define XEHIL_SIM_SIMD_CONTROL_PRESSURE_INJECTOR_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_injector.h"
#include "sim/simd/control_capabilities.h"

namespace xehil::simd {

class ControlPressureInjector : public PressureInjector {
 public:
  explicit ControlPressureInjector(
      std::shared_ptr<ControlCapabilities> control);

  std::string Name() const override { return "simd"; }
  // FAILED_PRECONDITION without a control connection.
  absl::Status CheckAvailable() const override;
  // NOT_FOUND for a region instance the device does not have;
  // RESOURCE_EXHAUSTED for more than the region has left to take (its total
  // less the pressure already held), as the other injectors refuse.
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override;

 private:
  const std::shared_ptr<ControlCapabilities> control_;
  const std::shared_ptr<LeaseReaper> reaper_;
  absl::Mutex mu_;  // serialises Acquire's check and injection
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CONTROL_PRESSURE_INJECTOR_H_
