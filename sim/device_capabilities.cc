#include "sim/device_capabilities.h"

namespace xehil::sim {

absl::Status DeviceCapabilities::FailNextRebinds(uint64_t client_id,
                                                 uint32_t vm_id, uint32_t count,
                                                 int negative_errno) {
  return device_->FailNextRebinds(client_id, vm_id, count, negative_errno);
}

absl::Status DeviceCapabilities::FailNextRestarts(uint64_t client_id,
                                                  uint32_t vm_id,
                                                  uint32_t count) {
  return device_->FailNextRestarts(client_id, vm_id, count);
}

absl::Status DeviceCapabilities::DropNextRecords(uint64_t client_id,
                                                 uint32_t count) {
  return device_->DropNextRecords(client_id, count);
}

absl::Status DeviceCapabilities::TriggerRebind(uint64_t client_id,
                                               uint32_t vm_id) {
  return device_->TriggerRebind(client_id, vm_id);
}

absl::StatusOr<ObservedVm> DeviceCapabilities::GetVm(uint64_t client_id,
                                                     uint32_t vm_id) {
  absl::StatusOr<VmStatus> vm = device_->GetVm(client_id, vm_id);
  if (!vm.ok()) return vm.status();
  ObservedVm seen;
  seen.error = vm->error;
  switch (vm->state) {
    case VmState::kHealthy:
      seen.state = ObservedVm::State::kHealthy;
      break;
    case VmState::kPaused:
      seen.state = ObservedVm::State::kPaused;
      break;
    case VmState::kBanned:
      seen.state = ObservedVm::State::kBanned;
      break;
  }
  return seen;
}

absl::Status DeviceCapabilities::WaitIdle() {
  device_->WaitIdle();
  return absl::OkStatus();
}

}  // namespace xehil::sim
