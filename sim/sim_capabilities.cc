#include "sim/sim_capabilities.h"

#include "sim/sim_backend.h"

namespace xehil::sim {

OpenedFile SimCapabilities::OpenFile() {
  auto backend = std::make_unique<SimBackend>(device_);
  const uint64_t id = backend->file_id();
  return OpenedFile{std::move(backend), id};
}

absl::Status SimCapabilities::FailNextRebinds(uint64_t client_id,
                                              uint32_t vm_id, uint32_t count,
                                              int negative_errno) {
  return device_->FailNextRebinds(client_id, vm_id, count, negative_errno);
}

absl::Status SimCapabilities::FailNextRestarts(uint64_t client_id,
                                               uint32_t vm_id, uint32_t count) {
  return device_->FailNextRestarts(client_id, vm_id, count);
}

absl::Status SimCapabilities::DropNextRecords(uint64_t client_id,
                                              uint32_t count) {
  return device_->DropNextRecords(client_id, count);
}

absl::Status SimCapabilities::TriggerRebind(uint64_t client_id,
                                            uint32_t vm_id) {
  return device_->TriggerRebind(client_id, vm_id);
}

absl::StatusOr<ObservedVm> SimCapabilities::GetVm(uint64_t client_id,
                                                  uint32_t vm_id) {
  absl::StatusOr<VmStatus> status = device_->GetVm(client_id, vm_id);
  if (!status.ok()) return status.status();
  ObservedVm vm;
  switch (status->state) {
    case VmState::kHealthy:
      vm.state = ObservedVm::State::kHealthy;
      break;
    case VmState::kPaused:
      vm.state = ObservedVm::State::kPaused;
      break;
    case VmState::kBanned:
      vm.state = ObservedVm::State::kBanned;
      break;
  }
  vm.error = status->error;
  return vm;
}

absl::Status SimCapabilities::WaitIdle() {
  device_->WaitIdle();
  return absl::OkStatus();
}

}  // namespace xehil::sim
