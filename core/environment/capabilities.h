// What a run environment can do to and see of its device beyond the UAPI,
// as small interfaces each backend implements its own way: the in-process
// simulator calls sim::Device, simd and vxe ask their daemon over its control
// channel, and a real xe host offers what its kernel allows. Code above the
// seam asks for a capability and, where it is missing, says why (the
// environment's `*_missing` reason) instead of asking which backend it has.
//
//   OpenedFile file = *env.open_file();
//   if (env.faults == nullptr) return Skip(env.faults_missing);
//   XEHIL_RETURN_IF_ERROR(env.faults->FailNextRebinds(
//       file.client_id, vm_id, 1, -ENOMEM));
//   XEHIL_RETURN_IF_ERROR(env.faults->TriggerRebind(file.client_id, vm_id));
//   XEHIL_RETURN_IF_ERROR(env.faults->WaitIdle());
#ifndef XEHIL_CORE_ENVIRONMENT_CAPABILITIES_H_
#define XEHIL_CORE_ENVIRONMENT_CAPABILITIES_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"

namespace xehil {

// A DRM file an environment opened, and the id its device names it by: the
// DRM client id (`drm-client-id` in /proc/PID/fdinfo) on a kernel, the
// daemon's or the simulator's file id otherwise. Capabilities take that id.
struct OpenedFile {
  std::unique_ptr<KernelBackend> backend;
  uint64_t client_id = 0;
};

// Faults injected into the device's rebind worker, restarts and record
// delivery. Every call names an open file and (where it applies) one of its
// VMs: NOT_FOUND when either does not exist. Thread-safe.
class FaultInjector {
 public:
  virtual ~FaultInjector() = default;

  // The next `count` rebinds of the VM fail with `negative_errno` (-ENOMEM
  // and -ENOSPC pause a restartable VM and post VM_ERR, others ban it).
  virtual absl::Status FailNextRebinds(uint64_t client_id, uint32_t vm_id,
                                       uint32_t count, int negative_errno) = 0;
  // The next `count` VM_RESTARTs of the VM answer -EAGAIN.
  virtual absl::Status FailNextRestarts(uint64_t client_id, uint32_t vm_id,
                                        uint32_t count) = 0;
  // The file's next `count` VM_ERR records never reach its pipes.
  virtual absl::Status DropNextRecords(uint64_t client_id, uint32_t count) = 0;
  // "Evict now": the VM's rebind runs on the device's worker.
  virtual absl::Status TriggerRebind(uint64_t client_id, uint32_t vm_id) = 0;
  // Returns once the device has no rebind queued or running, so what the
  // faults caused (records posted, VMs paused) has happened.
  virtual absl::Status WaitIdle() = 0;
};

// The device's own view of a VM, for checks that cross-check what a program
// sees through the UAPI.
struct ObservedVm {
  enum class State { kHealthy, kPaused, kBanned };
  State state = State::kHealthy;
  int error = 0;  // the negative errno that paused or banned it, else 0
};

// Thread-safe.
class VmObserver {
 public:
  virtual ~VmObserver() = default;
  // NOT_FOUND when the file or the VM does not exist on the device.
  virtual absl::StatusOr<ObservedVm> GetVm(uint64_t client_id,
                                           uint32_t vm_id) = 0;
  // As FaultInjector::WaitIdle: settles the device before a look.
  virtual absl::Status WaitIdle() = 0;
};

}  // namespace xehil

#endif  // XEHIL_CORE_ENVIRONMENT_CAPABILITIES_H_
