// simd::ControlCapabilities: FaultInjector and VmObserver
// (core/environment/capabilities.h) over a daemon's control channel
// (proto/simd.proto): xehil-simd on the host, or the vxe guest daemon, which
// serves the same protocol. Client ids are the daemon's file ids
// (RemoteBackend::file_id(), or the newest file of a process under the
// interposer).
//
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<ControlCapabilities> caps,
//                          ControlCapabilities::Connect(socket_path));
//   XEHIL_RETURN_IF_ERROR(caps->FailNextRebinds(file_id, vm, 1, -ENOMEM));
//   XEHIL_RETURN_IF_ERROR(caps->TriggerRebind(file_id, vm));
//   XEHIL_RETURN_IF_ERROR(caps->WaitIdle());
//
// Thread-safe: one request on the connection at a time.
#ifndef XEHIL_SIM_SIMD_CONTROL_CAPABILITIES_H_
#define XEHIL_SIM_SIMD_CONTROL_CAPABILITIES_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/environment/capabilities.h"
#include "proto/simd.pb.h"
#include "sim/simd/client.h"

namespace xehil::simd {

class ControlCapabilities : public FaultInjector, public VmObserver {
 public:
  // Connects to the daemon at `socket_path` as a control client.
  static absl::StatusOr<std::unique_ptr<ControlCapabilities>> Connect(
      const std::string& socket_path, const std::string& program = "xehil");

  // The daemon's answers, as codes: NOT_FOUND for a file that is not open
  // or a VM it does not have (VM 0 included: the protocol's "every
  // restartable VM" is not offered here); FAILED_PRECONDITION for a trigger
  // on a VM with no rebind worker running; INVALID_ARGUMENT for an errno
  // the protocol cannot carry. A broken connection is the transport's error.
  absl::Status FailNextRebinds(uint64_t client_id, uint32_t vm_id,
                               uint32_t count, int negative_errno) override;
  absl::Status FailNextRestarts(uint64_t client_id, uint32_t vm_id,
                                uint32_t count) override;
  absl::Status DropNextRecords(uint64_t client_id, uint32_t count) override;
  absl::Status TriggerRebind(uint64_t client_id, uint32_t vm_id) override;
  absl::Status WaitIdle() override;
  absl::StatusOr<ObservedVm> GetVm(uint64_t client_id, uint32_t vm_id) override;

  // The daemon's status (files, VMs, counters), e.g. to find a process's
  // files.
  absl::StatusOr<sim::DeviceStatus> Status();
  // Any control request; a reply with a non-OK code is that error.
  absl::StatusOr<sim::ControlReply> Send(const sim::ControlRequest& request);

 private:
  explicit ControlCapabilities(Client client) : client_(std::move(client)) {}
  // One action on (file, VM).
  absl::Status Apply(uint64_t client_id, uint32_t vm_id, sim::Action action);

  absl::Mutex mu_;
  Client client_ ABSL_GUARDED_BY(mu_);
};

// The id of the newest file `pid` has open on the daemon (file ids grow), or
// NOT_FOUND: how a program under the interposer names its own DRM file.
absl::StatusOr<uint64_t> NewestFileOf(const sim::DeviceStatus& status,
                                      uint32_t pid);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CONTROL_CAPABILITIES_H_
