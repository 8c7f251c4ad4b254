#include "sim/simd/control_capabilities.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil::simd {

absl::StatusOr<std::unique_ptr<ControlCapabilities>>
ControlCapabilities::Connect(const std::string& socket_path,
                             const std::string& program) {
  absl::StatusOr<Client> client =
      Client::Connect(socket_path, Role::kControl, program);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ControlCapabilities>(
      new ControlCapabilities(*std::move(client)));
}

absl::StatusOr<sim::ControlReply> ControlCapabilities::Send(
    const sim::ControlRequest& request) {
  absl::MutexLock lock(&mu_);
  return client_.Control(request);
}

absl::Status ControlCapabilities::Apply(uint64_t client_id, uint32_t vm_id,
                                        sim::Action action) {
  sim::ControlRequest request;
  sim::ApplyActions* apply = request.mutable_apply();
  apply->set_file_id(client_id);
  apply->set_vm_id(vm_id);
  *apply->add_action() = std::move(action);
  return Send(request).status();
}

absl::Status ControlCapabilities::FailNextRebinds(uint64_t client_id,
                                                  uint32_t vm_id,
                                                  uint32_t count,
                                                  int negative_errno) {
  if (vm_id == 0) return absl::NotFoundError("no VM 0");
  if (negative_errno >= 0 || !Errno_IsValid(-negative_errno)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the control protocol cannot fail a rebind with ",
                     DescribeErrno(negative_errno)));
  }
  sim::Action action;
  action.mutable_fail_rebinds()->set_count(count);
  action.mutable_fail_rebinds()->set_error(
      static_cast<xehil::Errno>(-negative_errno));
  return Apply(client_id, vm_id, std::move(action));
}

absl::Status ControlCapabilities::FailNextRestarts(uint64_t client_id,
                                                   uint32_t vm_id,
                                                   uint32_t count) {
  if (vm_id == 0) return absl::NotFoundError("no VM 0");
  sim::Action action;
  action.set_restart_eagain(count);
  return Apply(client_id, vm_id, std::move(action));
}

absl::Status ControlCapabilities::DropNextRecords(uint64_t client_id,
                                                  uint32_t count) {
  sim::Action action;
  action.set_drop_records(count);
  // VM 0: the file's VMs, which a drop does not use.
  return Apply(client_id, 0, std::move(action));
}

absl::Status ControlCapabilities::TriggerRebind(uint64_t client_id,
                                                uint32_t vm_id) {
  if (vm_id == 0) return absl::NotFoundError("no VM 0");
  sim::Action action;
  action.mutable_trigger_rebind();
  return Apply(client_id, vm_id, std::move(action));
}

absl::Status ControlCapabilities::WaitIdle() {
  sim::ControlRequest request;
  request.mutable_wait_idle();
  return Send(request).status();
}

absl::StatusOr<sim::DeviceStatus> ControlCapabilities::Status() {
  sim::ControlRequest request;
  request.mutable_status();
  absl::StatusOr<sim::ControlReply> reply = Send(request);
  if (!reply.ok()) return reply.status();
  return reply->status();
}

absl::StatusOr<ObservedVm> ControlCapabilities::GetVm(uint64_t client_id,
                                                      uint32_t vm_id) {
  absl::StatusOr<sim::DeviceStatus> status = Status();
  if (!status.ok()) return status.status();
  for (const sim::OpenFile& file : status->files()) {
    if (file.file_id() != client_id) continue;
    for (const sim::Vm& vm : file.vms()) {
      if (vm.vm_id() != vm_id) continue;
      ObservedVm seen;
      switch (vm.state()) {
        case sim::Vm::PAUSED:
          seen.state = ObservedVm::State::kPaused;
          break;
        case sim::Vm::BANNED:
          seen.state = ObservedVm::State::kBanned;
          break;
        default:
          seen.state = ObservedVm::State::kHealthy;
          break;
      }
      seen.error = vm.error();
      return seen;
    }
    return absl::NotFoundError(
        absl::StrCat("file ", client_id, " has no VM ", vm_id));
  }
  return absl::NotFoundError(absl::StrCat("no open file ", client_id));
}

absl::StatusOr<uint64_t> NewestFileOf(const sim::DeviceStatus& status,
                                      uint32_t pid) {
  uint64_t newest = 0;
  for (const sim::OpenFile& file : status.files()) {
    if (file.pid() == pid && file.file_id() > newest) newest = file.file_id();
  }
  if (newest == 0) {
    return absl::NotFoundError(
        absl::StrCat("process ", pid, " has no file open on the daemon"));
  }
  return newest;
}

}  // namespace xehil::simd
