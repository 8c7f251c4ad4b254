// sim::DeviceCapabilities: the in-process simulator's fault injection and VM
// observer (core/environment/capabilities.h) on a sim::Device, naming files
// by their FileId (SimBackend::file_id()).
//
//   std::shared_ptr<sim::Device> device = *sim::Device::Create("dg2-16g");
//   sim::DeviceCapabilities caps(device);
//   std::unique_ptr<SimBackend> file = device->Open();
//   caps.FailNextRebinds(file->file_id(), vm_id, 1, -ENOMEM);
//
// Thread-safe (sim::Device is).
#ifndef XEHIL_SIM_DEVICE_CAPABILITIES_H_
#define XEHIL_SIM_DEVICE_CAPABILITIES_H_

#include <cstdint>
#include <memory>
#include <utility>

#include "core/environment/capabilities.h"
#include "sim/device.h"

namespace xehil::sim {

class DeviceCapabilities : public FaultInjector, public VmObserver {
 public:
  explicit DeviceCapabilities(std::shared_ptr<Device> device)
      : device_(std::move(device)) {}

  absl::Status FailNextRebinds(uint64_t client_id, uint32_t vm_id,
                               uint32_t count, int negative_errno) override;
  absl::Status FailNextRestarts(uint64_t client_id, uint32_t vm_id,
                                uint32_t count) override;
  absl::Status DropNextRecords(uint64_t client_id, uint32_t count) override;
  absl::Status TriggerRebind(uint64_t client_id, uint32_t vm_id) override;
  absl::StatusOr<ObservedVm> GetVm(uint64_t client_id, uint32_t vm_id) override;
  absl::Status WaitIdle() override;

 private:
  const std::shared_ptr<Device> device_;
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_DEVICE_CAPABILITIES_H_
