// XeDevice: a typed client for the xe UAPI over any KernelBackend. Every call
// returns absl::Status/StatusOr; kernel errnos keep their sign and name in
// the message and are recoverable with StatusErrno()
// (core/base/errno_status.h).
//
//   XeDevice dev(backend);                       // backend outlives dev
//   XEHIL_ASSIGN_OR_RETURN(uint32_t vm, dev.CreateVm(kRestartableLr));
//   XEHIL_ASSIGN_OR_RETURN(NotificationPipe pipe,
//                          dev.WatchQueue(/*watch_id=*/1, {}));
//   ... on a VM_ERR record:
//   absl::StatusOr<RestartOutcome> r = dev.RestartVm(vm, record_timestamp_ns);
//
// Thread-safe: calls may come from several threads (the recovery engine's
// worker restarts VMs while the application binds BOs).
#ifndef XEHIL_CORE_DEVICE_XE_DEVICE_H_
#define XEHIL_CORE_DEVICE_XE_DEVICE_H_

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/kernel_backend.h"
#include "core/base/errno_status.h"
#include "core/uapi/xe_uapi.h"

namespace xehil {

// LR_MODE | RESTARTABLE: the VMs the recovery loop is about.
inline constexpr uint32_t kRestartableLr =
    DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;

struct MemRegion {
  uint16_t mem_class = 0;  // DRM_XE_MEM_REGION_CLASS_*
  uint16_t instance = 0;   // bit in GEM_CREATE placement
  uint32_t min_page_size = 0;
  uint64_t total_size = 0;
  uint64_t used = 0;
  uint64_t cpu_visible_size = 0;
};

struct EngineInfo {
  uint16_t engine_class = 0;  // DRM_XE_ENGINE_CLASS_*
  uint16_t engine_instance = 0;
  uint16_t gt_id = 0;
};

// One mapping made with XeDevice::BindBo: `range` bytes of `bo` from
// `offset`, at GPU address `addr`.
struct Binding {
  uint32_t bo = 0;
  uint64_t offset = 0;
  uint64_t addr = 0;
  uint64_t range = 0;

  bool operator==(const Binding& o) const {
    return bo == o.bo && offset == o.offset && addr == o.addr &&
           range == o.range;
  }
};

// How a RestartVm call went.
struct RestartOutcome {
  int tries = 0;  // ioctls issued, the successful one included
};

class XeDevice {
 public:
  // Default bound on VM_RESTART tries while the kernel answers -EAGAIN.
  static constexpr int kDefaultRestartTries = 8;

  explicit XeDevice(KernelBackend& backend) : backend_(backend) {}
  XeDevice(const XeDevice&) = delete;
  XeDevice& operator=(const XeDevice&) = delete;

  KernelBackend& backend() { return backend_; }

  // DEVICE_QUERY (two-call protocol: size first, then data).
  absl::StatusOr<std::vector<MemRegion>> QueryMemRegions();
  absl::StatusOr<std::vector<EngineInfo>> QueryEngines();

  // VM_CREATE / VM_DESTROY. VMs created RESTARTABLE through this object are
  // remembered (see RestartableVms) until destroyed here; DestroyVm's -ENOENT
  // also forgets the VM (it is gone already).
  absl::StatusOr<uint32_t> CreateVm(uint32_t flags);
  absl::Status DestroyVm(uint32_t vm_id);

  // GEM_CREATE with a placement bitmask of region instances; vm_id 0 makes a
  // shareable BO. CloseBo is DRM_IOCTL_GEM_CLOSE.
  absl::StatusOr<uint32_t> CreateBo(uint64_t size, uint32_t placement,
                                    uint32_t vm_id = 0, uint32_t flags = 0);
  absl::Status CloseBo(uint32_t handle);

  // VM_BIND of one operation: map `range` bytes of `bo` at `offset` to `addr`,
  // and unmap of a range. Successful calls keep BindingsOf up to date.
  absl::Status BindBo(uint32_t vm_id, uint32_t bo, uint64_t offset,
                      uint64_t addr, uint64_t range);
  absl::Status Unbind(uint32_t vm_id, uint64_t addr, uint64_t range);

  // EXEC_QUEUE_CREATE with one placement / EXEC_QUEUE_DESTROY.
  absl::StatusOr<uint32_t> CreateExecQueue(uint32_t vm_id,
                                           const EngineInfo& engine);
  absl::Status DestroyExecQueue(uint32_t exec_queue_id);

  // VM_RESTART, retried while the kernel answers -EAGAIN, at most `max_tries`
  // ioctls. Success means the rebind ran; a rebind that failed again is
  // reported by a new VM_ERR record, not here. Errors: -EAGAIN after the last
  // try (UNAVAILABLE), -ENOENT (NOT_FOUND), -EALREADY when the VM is not
  // paused (FAILED_PRECONDITION), -EINVAL (INVALID_ARGUMENT). max_tries < 1
  // is INVALID_ARGUMENT without an ioctl. No pause between tries: -EAGAIN
  // means userptrs moved during the rebind, and the next try repins them.
  absl::StatusOr<RestartOutcome> RestartVm(
      uint32_t vm_id, uint64_t timestamp_ns = 0,
      int max_tries = kDefaultRestartTries);

  // Makes a notification pipe and subscribes it to this file's events with
  // DRM_IOCTL_XE_WATCH_QUEUE. The caller owns both ends.
  absl::StatusOr<NotificationPipe> WatchQueue(
      uint8_t watch_id, const NotificationPipeOptions& options);

  // Restartable VMs created through this object and not destroyed.
  std::vector<uint32_t> RestartableVms() const;

  // The VM's working set as bound through this object, by address: BindBo
  // adds a binding (replacing what it overlaps, as a MAP does), Unbind cuts
  // the unmapped range out (splitting a binding it covers in part), and
  // DestroyVm drops them all. What a shrinking recovery policy unbinds.
  std::vector<Binding> BindingsOf(uint32_t vm_id) const;

 private:
  // Issues one ioctl; on failure the status reads "<what...>: -EXXX (text)",
  // e.g. "VM_DESTROY vm 3: -ENOENT (...)". The message is built only then.
  template <typename... What>
  absl::Status Call(unsigned long request, void* arg, const What&... what) {
    int rc = backend_.Ioctl(request, arg);
    if (rc == 0) return absl::OkStatus();
    return ErrnoToStatus(rc, absl::StrCat(what...));
  }

  KernelBackend& backend_;
  // Held across VM_CREATE and VM_DESTROY with their bookkeeping, so a
  // destroy cannot forget an id the kernel has just handed out again.
  absl::Mutex lifecycle_mu_;
  // Removes [addr, addr + range) from the VM's bindings.
  void CutBindingsLocked(uint32_t vm_id, uint64_t addr, uint64_t range)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(lifecycle_mu_);
  // B-trees: with thousands of VMs a red-black node a VM and a binding
  // were a fifth of the heap a VM costs.
  absl::btree_set<uint32_t> restartable_vms_ ABSL_GUARDED_BY(mu_);
  // (vm id, address) -> binding. Erasing invalidates iterators.
  using BindingMap = absl::btree_map<std::pair<uint32_t, uint64_t>, Binding>;
  BindingMap bindings_ ABSL_GUARDED_BY(mu_);
  // The VM's bindings: [first, end of its range).
  using BindingIt = BindingMap::iterator;
  std::pair<BindingIt, BindingIt> BindingsOfLocked(uint32_t vm_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace xehil

#endif  // XEHIL_CORE_DEVICE_XE_DEVICE_H_
