// Device: memory-region queries, BOs, VMs, bindings and exec queues.
#include <algorithm>
#include <cerrno>
#include <limits>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "sim/device.h"

namespace xehil::sim {

using internal::Bo;
using internal::File;
using internal::Mapping;
using internal::Vm;

namespace {

// private_vm of a BO whose VM was destroyed: it can no longer be bound.
constexpr uint32_t kOrphanedVm = std::numeric_limits<uint32_t>::max();

}  // namespace

std::vector<drm_xe_mem_region> Device::MemRegions() const {
  absl::MutexLock lock(&mu_);
  std::vector<drm_xe_mem_region> out;
  for (const RegionUsage& region : memory_.regions()) {
    drm_xe_mem_region r{};
    r.mem_class = region.spec.mem_class;
    r.instance = region.spec.instance;
    r.min_page_size = region.spec.min_page_size;
    r.total_size = region.spec.total_bytes;
    // Injected pressure is memory someone else uses; never report more than
    // the capacity, as the kernel never does.
    const uint64_t total = region.spec.total_bytes;
    const uint64_t pressure = std::min(total, region.pressure);
    r.used = pressure + std::min(total - pressure, region.used);
    if (r.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) {
      r.cpu_visible_size = r.total_size;  // resizable BAR: all of it
      r.cpu_visible_used = r.used;
    }
    out.push_back(r);
  }
  return out;
}

int Device::PlaceNewBoLocked(Bo& bo) {
  uint16_t instance = 0;
  int rc = memory_.Place(bo.placement, bo.size, &instance);
  if (rc == 0) {
    bo.resident = instance;
    return 0;
  }
  // Like TTM: when no placement has room, evict others in preference order.
  for (uint16_t candidate : memory_.PlacementOrder(bo.placement)) {
    EvictForRoomLocked(candidate, bo.size);
    if (memory_.Fits(candidate, bo.size)) {
      memory_.Charge(candidate, bo.size);
      bo.resident = candidate;
      return 0;
    }
  }
  return rc;
}

int Device::CreateBo(FileId file, uint64_t size, uint32_t placement,
                     uint32_t flags, uint32_t vm_id, uint32_t* handle) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  if (placement == 0 || (placement & ~memory_.known_mask()) != 0) {
    return -EINVAL;
  }
  if (size == 0 || size % memory_.Alignment(placement) != 0) return -EINVAL;
  if (vm_id != 0 && f->vms.count(vm_id) == 0) return -ENOENT;
  Bo bo;
  bo.size = size;
  bo.placement = placement;
  bo.flags = flags;
  bo.private_vm = vm_id;
  bo.private_vm_preempt_fence =
      vm_id != 0 && f->vms.at(vm_id).preempt_fence_mode();
  if ((flags & DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING) == 0) {
    int rc = PlaceNewBoLocked(bo);
    if (rc != 0) return rc;
  }
  bo.handle = f->handle_ids.Take();
  uint64_t object = f->next_object++;
  if (vm_id != 0) {
    auto& owned = f->vms.at(vm_id).private_objects;
    bo.private_index = static_cast<uint32_t>(owned.size());
    owned.push_back(object);
  }
  f->handles[bo.handle] = object;
  *handle = bo.handle;
  f->objects.emplace(object, std::move(bo));
  return 0;
}

void Device::ReleaseObjectIfUnusedLocked(File& file, uint64_t object) {
  auto it = file.objects.find(object);
  if (it == file.objects.end()) return;
  Bo& bo = it->second;
  if (bo.handle != 0 || !bo.vm_refs.empty()) return;
  if (bo.resident) memory_.Uncharge(*bo.resident, bo.size);
  if (bo.private_vm != 0 && bo.private_vm != kOrphanedVm) {
    // Out of its VM's index: the last entry takes its place.
    auto& owned = file.vms.at(bo.private_vm).private_objects;
    const uint64_t moved = owned.back();
    owned[bo.private_index] = moved;
    file.bo(moved).private_index = bo.private_index;
    owned.pop_back();
  }
  file.objects.erase(it);
}

int Device::CloseBo(FileId file, uint32_t handle) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  auto it = f->handles.find(handle);
  if (it == f->handles.end()) return -EINVAL;  // as DRM core answers
  uint64_t object = it->second;
  f->handles.erase(it);
  f->handle_ids.Release(handle);
  f->bo(object).handle = 0;
  ReleaseObjectIfUnusedLocked(*f, object);  // mappings keep it alive
  return 0;
}

int Device::CreateVm(FileId file, uint32_t flags, uint32_t* vm_id) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  uint32_t id = f->vm_ids.Take();
  Vm& vm = f->vms[id];
  vm.serial = next_vm_serial_++;
  vm.flags = flags;
  *vm_id = id;
  return 0;
}

void Device::DropMappingLocked(File& file, uint32_t vm_id,
                               const Mapping& mapping) {
  if (mapping.object == 0) return;  // userptr or NULL binding
  Bo& bo = file.bo(mapping.object);
  internal::DropVmRef(bo, vm_id);
  ReleaseObjectIfUnusedLocked(file, mapping.object);
}

void Device::UnmapRangeLocked(File& file, uint32_t vm_id, Vm& vm, uint64_t addr,
                              uint64_t range) {
  const uint64_t end = addr + range;
  std::vector<uint64_t> overlapping;
  auto it = vm.mappings.upper_bound(addr);
  if (it != vm.mappings.begin()) --it;
  for (; it != vm.mappings.end() && it->first < end; ++it) {
    if (it->first + it->second.range > addr) overlapping.push_back(it->first);
  }
  for (uint64_t start : overlapping) {
    Mapping old = vm.mappings.at(start);
    vm.mappings.erase(start);
    const uint64_t old_end = start + old.range;
    // Keep the parts outside [addr, end), as a partial unmap splits a VMA.
    auto keep = [&](uint64_t from, uint64_t to) {
      vm.mappings[from] = {old.object, old.offset + (from - start), to - from};
      if (old.object != 0) {
        internal::AddVmRef(file.bo(old.object), vm_id);
      }
    };
    if (start < addr) keep(start, addr);
    if (old_end > end) keep(end, old_end);
    DropMappingLocked(file, vm_id, old);
  }
}

int Device::DestroyVm(FileId file, uint32_t vm_id) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  auto it = f->vms.find(vm_id);
  if (it == f->vms.end()) return -ENOENT;
  Vm& vm = it->second;
  if (!vm.exec_queues.empty()) return -EBUSY;
  absl::btree_map<uint64_t, Mapping> mappings = std::move(vm.mappings);
  for (const auto& [addr, mapping] : mappings) {
    DropMappingLocked(*f, vm_id, mapping);
  }
  for (uint64_t object : vm.private_objects) {
    Bo& bo = f->bo(object);
    bo.private_vm = kOrphanedVm;
    bo.private_vm_preempt_fence = false;
  }
  if (vm.rebind_pending) {
    // Its one ticket; a VM without one does not make this walk the queue.
    const uint64_t serial = vm.serial;
    rebind_queue_.erase(
        std::remove_if(
            rebind_queue_.begin(), rebind_queue_.end(),
            [serial](const RebindTicket& t) { return t.serial == serial; }),
        rebind_queue_.end());
    if (rebind_queue_.empty() && !worker_busy_) idle_cv_.SignalAll();
  }
  script_.ForgetVm(file, vm_id);
  f->vms.erase(it);
  f->vm_ids.Release(vm_id);
  return 0;
}

int Device::Bind(FileId file, uint32_t vm_id, uint32_t exec_queue_id,
                 const std::vector<BindOp>& ops) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  Vm* vm = FindVmLocked(file, vm_id);
  if (f == nullptr || vm == nullptr || vm->state == VmState::kBanned) {
    return -ENOENT;
  }
  if (exec_queue_id != 0 && f->exec_queues.count(exec_queue_id) == 0) {
    return -ENOENT;
  }
  // Look everything up before changing anything: a failed bind has no effect.
  std::vector<uint64_t> objects(ops.size(), 0);
  for (size_t i = 0; i < ops.size(); ++i) {
    const BindOp& op = ops[i];
    if (op.op != DRM_XE_VM_BIND_OP_UNMAP_ALL &&
        (op.op != DRM_XE_VM_BIND_OP_MAP || op.obj == 0)) {
      continue;
    }
    auto handle = f->handles.find(op.obj);
    if (handle == f->handles.end()) return -ENOENT;
    objects[i] = handle->second;
    const Bo& bo = f->bo(objects[i]);
    if (op.op != DRM_XE_VM_BIND_OP_MAP) continue;
    if (bo.private_vm != 0 && bo.private_vm != vm_id) return -EINVAL;
    if (op.obj_offset > bo.size || op.range > bo.size - op.obj_offset) {
      return -EINVAL;
    }
  }
  // Binding validates the BO: an evicted or deferred BO must be placed.
  std::vector<Bo*> placed;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].op != DRM_XE_VM_BIND_OP_MAP || objects[i] == 0) continue;
    Bo& bo = f->bo(objects[i]);
    if (bo.resident) continue;
    uint16_t instance = 0;
    int rc = memory_.Place(bo.placement, bo.size, &instance);
    if (rc != 0) {
      for (Bo* undo : placed) {
        memory_.Uncharge(*undo->resident, undo->size);
        undo->resident.reset();
      }
      return rc;
    }
    bo.resident = instance;
    placed.push_back(&bo);
  }
  for (size_t i = 0; i < ops.size(); ++i) {
    const BindOp& op = ops[i];
    switch (op.op) {
      case DRM_XE_VM_BIND_OP_MAP:
      case DRM_XE_VM_BIND_OP_MAP_USERPTR:
        UnmapRangeLocked(*f, vm_id, *vm, op.addr, op.range);
        vm->mappings[op.addr] = {objects[i], op.obj_offset, op.range};
        if (objects[i] != 0) {
          internal::AddVmRef(f->bo(objects[i]), vm_id);
        }
        break;
      case DRM_XE_VM_BIND_OP_UNMAP:
        UnmapRangeLocked(*f, vm_id, *vm, op.addr, op.range);
        break;
      case DRM_XE_VM_BIND_OP_UNMAP_ALL: {
        std::vector<uint64_t> addrs;
        for (const auto& [addr, mapping] : vm->mappings) {
          if (mapping.object == objects[i]) addrs.push_back(addr);
        }
        for (uint64_t addr : addrs) {
          UnmapRangeLocked(*f, vm_id, *vm, addr, vm->mappings.at(addr).range);
        }
        break;
      }
      default:  // PREFETCH: placement is not modelled beyond residency
        break;
    }
  }
  return 0;
}

int Device::CreateExecQueue(FileId file, uint32_t vm_id,
                            const drm_xe_engine_class_instance& engine,
                            uint32_t* exec_queue_id) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  Vm* vm = FindVmLocked(file, vm_id);
  if (f == nullptr || vm == nullptr || vm->state == VmState::kBanned) {
    return -ENOENT;
  }
  uint32_t id = f->exec_queue_ids.Take();
  f->exec_queues[id] = {vm_id, engine};
  vm->exec_queues.push_back(id);
  *exec_queue_id = id;
  return 0;
}

int Device::DestroyExecQueue(FileId file, uint32_t exec_queue_id) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  auto it = f->exec_queues.find(exec_queue_id);
  if (it == f->exec_queues.end()) return -ENOENT;
  if (Vm* vm = FindVmLocked(file, it->second.vm_id)) {
    auto& queues = vm->exec_queues;
    queues.erase(std::remove(queues.begin(), queues.end(), exec_queue_id),
                 queues.end());
  }
  f->exec_queues.erase(it);
  f->exec_queue_ids.Release(exec_queue_id);
  return 0;
}

}  // namespace xehil::sim
