// The state a sim::Device keeps per DRM file: BOs, VMs and their mappings,
// exec queues and watches. Plain data, guarded by the Device's mutex; only
// the Device and its tests look inside.
#ifndef XEHIL_SIM_DEVICE_STATE_H_
#define XEHIL_SIM_DEVICE_STATE_H_

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "core/uapi/xe_uapi.h"
#include "sim/fault_script.h"
#include "sim/notification_queue.h"

namespace xehil::sim {

enum class VmState {
  kHealthy,  // bound and running (a rebind may be queued)
  kPaused,   // restartable VM waiting in error for VM_RESTART
  kBanned,   // killed by a failed rebind; can only be destroyed
};

namespace internal {

// Hands out the lowest id >= 1 not in use, as the kernel's xarray/idr hand
// out VM, exec-queue and GEM ids, in O(log n): every id below next_ that is
// not in freed_ is in use.
class IdAllocator {
 public:
  uint32_t Take() {
    if (freed_.empty()) return next_++;
    const uint32_t id = *freed_.begin();
    freed_.erase(freed_.begin());
    return id;
  }
  // `id` came from Take() and is no longer used.
  void Release(uint32_t id) {
    if (id + 1 != next_) {
      freed_.insert(id);
      return;
    }
    // The highest id: lower next_ past it and past freed ids just below it,
    // so freed_ holds only the holes.
    --next_;
    while (!freed_.empty() && *freed_.rbegin() + 1 == next_) {
      freed_.erase(std::prev(freed_.end()));
      --next_;
    }
  }

 private:
  uint32_t next_ = 1;
  std::set<uint32_t> freed_;
};

struct Bo {
  uint64_t size = 0;
  uint32_t placement = 0;
  uint32_t flags = 0;
  uint32_t private_vm = 0;  // VM this BO is private to; 0 if shareable
  // private_vm exists and is in preempt-fence mode (VM flags never change),
  // so eviction need not look the VM up for every BO.
  bool private_vm_preempt_fence = false;
  uint32_t handle = 0;  // GEM handle; 0 once closed (mappings keep it)
  // Where this BO's object id sits in its private VM's private_objects.
  uint32_t private_index = 0;
  // (vm id, mappings of the BO in it), by vm id. Inline: a BO is mostly
  // mapped in one VM, and a map would cost two allocations a BO.
  absl::InlinedVector<std::pair<uint32_t, uint32_t>, 1> vm_refs;
  std::optional<uint16_t> resident;  // region instance; none if evicted
};

// One more mapping of `bo` in VM `vm_id`.
inline void AddVmRef(Bo& bo, uint32_t vm_id) {
  auto it = std::lower_bound(bo.vm_refs.begin(), bo.vm_refs.end(), vm_id,
                             [](const std::pair<uint32_t, uint32_t>& r,
                                uint32_t v) { return r.first < v; });
  if (it != bo.vm_refs.end() && it->first == vm_id) {
    ++it->second;
  } else {
    bo.vm_refs.insert(it, {vm_id, 1});
  }
}

// One mapping of `bo` in VM `vm_id` fewer (none: nothing).
inline void DropVmRef(Bo& bo, uint32_t vm_id) {
  for (auto it = bo.vm_refs.begin(); it != bo.vm_refs.end(); ++it) {
    if (it->first != vm_id) continue;
    if (--it->second == 0) bo.vm_refs.erase(it);
    return;
  }
}

struct Mapping {
  uint64_t object = 0;  // File::objects key; 0 for a userptr mapping
  uint64_t offset = 0;  // into the BO (or the userptr address)
  uint64_t range = 0;
};

struct Vm {
  uint64_t serial = 0;  // device-unique: VM ids are reused, serials are not
  uint32_t flags = 0;
  VmState state = VmState::kHealthy;
  int error = 0;  // last rebind error while paused or banned
  bool rebind_pending = false;
  // By GPU address. A B-tree: a VM mostly has one mapping, which a tree
  // with one slot holds in about half the bytes of a red-black node and
  // header.
  absl::btree_map<uint64_t, Mapping> mappings;
  absl::InlinedVector<uint32_t, 2> exec_queues;  // ids, unordered
  // Object ids of the BOs private to this VM, unordered (each BO knows its
  // index): destroying the VM orphans them without looking at every BO.
  absl::InlinedVector<uint64_t, 1> private_objects;

  bool preempt_fence_mode() const {
    return (flags & DRM_XE_VM_CREATE_FLAG_LR_MODE) &&
           !(flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE);
  }
  bool restartable() const { return flags & DRM_XE_VM_CREATE_FLAG_RESTARTABLE; }
};

struct ExecQueue {
  uint32_t vm_id = 0;
  drm_xe_engine_class_instance engine{};
};

struct Watch {
  std::shared_ptr<NotificationQueue> queue;
  uint8_t watch_id = 0;
};

struct File {
  FileId id = 0;
  // BOs by object id; a BO outlives its handle while it is mapped.
  absl::btree_map<uint64_t, Bo> objects;
  std::map<uint32_t, uint64_t> handles;  // GEM handle -> object id
  uint64_t next_object = 1;
  // Hashed: every VM ioctl and rebind looks its VM up, and with thousands of
  // VMs a tree walk is a cache miss a level. ListVms sorts for callers.
  absl::node_hash_map<uint32_t, Vm> vms;
  std::map<uint32_t, ExecQueue> exec_queues;
  // The keys of handles, vms and exec_queues.
  IdAllocator handle_ids, vm_ids, exec_queue_ids;
  std::vector<Watch> watches;
  // Pipes opened through this file; the device's registry only holds weak
  // references, so a pipe lives while its opener or a watch holds it.
  std::vector<std::shared_ptr<NotificationQueue>> opened_queues;

  // The BO of a live object id.
  Bo& bo(uint64_t object) { return objects.at(object); }
  const Bo& bo(uint64_t object) const { return objects.at(object); }
};

}  // namespace internal
}  // namespace xehil::sim

#endif  // XEHIL_SIM_DEVICE_STATE_H_
