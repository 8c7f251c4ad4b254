// SimPressureInjector ("sim"): pressure on a region of a simulated device, as
// if another process used that memory. Acquire calls
// sim::Device::InjectPressure, which may evict BOs of preempt-fence VMs and
// queue their rebinds; the lease's release calls ReleasePressure.
//
//   std::shared_ptr<sim::Device> device = *sim::Device::Create("dg2-16g");
//   SimPressureInjector injector(device);
//   auto lease = injector.Acquire({/*region_instance=*/1, 12 << 20});
//
// Thread-safe.
#ifndef XEHIL_SIM_SIM_PRESSURE_INJECTOR_H_
#define XEHIL_SIM_SIM_PRESSURE_INJECTOR_H_

#include <memory>
#include <mutex>
#include <string>

#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_injector.h"
#include "sim/device.h"

namespace xehil {

class SimPressureInjector : public PressureInjector {
 public:
  explicit SimPressureInjector(std::shared_ptr<sim::Device> device);

  std::string Name() const override { return "sim"; }
  // FAILED_PRECONDITION without a device.
  absl::Status CheckAvailable() const override;
  // NOT_FOUND for a region instance the device does not have;
  // RESOURCE_EXHAUSTED for more than the region has left to take (its total
  // less the pressure already injected), as the real providers refuse.
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override;

 private:
  const std::shared_ptr<sim::Device> device_;
  const std::shared_ptr<LeaseReaper> reaper_;
  std::mutex mu_;  // serialises Acquire's check and injection
};

}  // namespace xehil

#endif  // XEHIL_SIM_SIM_PRESSURE_INJECTOR_H_
