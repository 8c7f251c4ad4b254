// sim::SimCapabilities: the in-process simulator's FaultInjector and
// VmObserver (core/environment/capabilities.h), straight onto a sim::Device.
// Client ids are SimBackend::file_id().
//
//   std::shared_ptr<Device> device = *Device::Create("dg2-16g");
//   SimCapabilities caps(device);
//   auto backend = std::make_unique<SimBackend>(device);
//   OpenedFile file{std::move(backend), id};  // id = backend->file_id()
//   caps.FailNextRebinds(file.client_id, vm, 1, -ENOMEM);
//
// Thread-safe (the Device is).
#ifndef XEHIL_SIM_SIM_CAPABILITIES_H_
#define XEHIL_SIM_SIM_CAPABILITIES_H_

#include <memory>

#include "core/environment/capabilities.h"
#include "sim/device.h"

namespace xehil::sim {

class SimCapabilities : public FaultInjector, public VmObserver {
 public:
  explicit SimCapabilities(std::shared_ptr<Device> device)
      : device_(std::move(device)) {}

  // Opens a DRM file on the device with its client id.
  OpenedFile OpenFile();

  absl::Status FailNextRebinds(uint64_t client_id, uint32_t vm_id,
                               uint32_t count, int negative_errno) override;
  absl::Status FailNextRestarts(uint64_t client_id, uint32_t vm_id,
                                uint32_t count) override;
  absl::Status DropNextRecords(uint64_t client_id, uint32_t count) override;
  // NOT_FOUND for an unknown file or VM; FAILED_PRECONDITION for a VM with
  // no rebind worker running (not in preempt-fence mode, paused, banned).
  absl::Status TriggerRebind(uint64_t client_id, uint32_t vm_id) override;
  absl::StatusOr<ObservedVm> GetVm(uint64_t client_id, uint32_t vm_id) override;
  absl::Status WaitIdle() override;

  Device& device() const { return *device_; }

 private:
  const std::shared_ptr<Device> device_;
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_SIM_CAPABILITIES_H_
