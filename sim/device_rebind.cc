// Device: the preempt-rebind model — eviction, rebinds on the worker and in
// VM_RESTART, pausing or banning a VM, and VM_ERR records.
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/base/monotonic_clock.h"
#include "sim/device.h"

namespace xehil::sim {

using internal::Bo;
using internal::File;
using internal::Vm;

namespace {

bool IsPreemptFenceVm(const File& file, uint32_t vm_id) {
  auto it = file.vms.find(vm_id);
  return it != file.vms.end() && it->second.preempt_fence_mode();
}

// Whether a VM of the file in preempt-fence mode owns or maps the BO: only
// such a VM has a rebind worker to bring the BO back after an eviction.
bool UsedByPreemptFenceVm(const File& file, const Bo& bo) {
  if (bo.private_vm_preempt_fence) return true;
  for (const auto& [vm_id, count] : bo.vm_refs) {
    if (IsPreemptFenceVm(file, vm_id)) return true;
  }
  return false;
}

}  // namespace

void Device::QueueRebindLocked(FileId file, uint32_t vm_id, Vm& vm) {
  if (vm.rebind_pending) return;
  vm.rebind_pending = true;
  rebind_queue_.push_back({file, vm_id, vm.serial});
  work_cv_.Signal();
}

void Device::RunTicketLocked(const RebindTicket& ticket) {
  File* file = FindFileLocked(ticket.file);
  Vm* vm = FindVmLocked(ticket.file, ticket.vm_id);
  if (file == nullptr || vm == nullptr || vm->serial != ticket.serial) return;
  vm->rebind_pending = false;
  if (vm->state != VmState::kHealthy) return;  // worker deactivated
  int rc = RebindLocked(*file, ticket.vm_id, /*retry_again=*/true);
  if (rc != 0) FailVmLocked(*file, ticket.vm_id, *vm, rc);
}

int Device::RebindLocked(File& file, uint32_t vm_id, bool retry_again) {
  ++counters_.rebinds;
  for (;;) {
    int scripted = script_.TakeRebindFailure(file.id, vm_id);
    if (scripted == 0) break;
    // The kernel's worker retries -EAGAIN (userptr invalidated) itself; a
    // scripted budget is finite, so this loop ends.
    if (scripted == -EAGAIN && retry_again) {
      ++counters_.rebind_again_retries;
      continue;
    }
    if (scripted != -EAGAIN) ++counters_.rebind_failures;
    return scripted;
  }
  // Re-place the evicted BOs mapped in the VM; a rebind does not evict
  // others. A BO private to the VM but no longer mapped in it (userspace
  // unbound it, e.g. to shrink a paused VM) is not part of the rebind, as
  // the kernel only revalidates BOs with a mapping in the VM.
  // The VM's own mappings name those BOs: the cost follows the VM, not the
  // file. In object order, as TTM's validation list would be stable.
  const Vm& vm = file.vms.at(vm_id);
  absl::InlinedVector<uint64_t, 4> objects;  // mostly one: no allocation
  for (const auto& [addr, mapping] : vm.mappings) {
    if (mapping.object != 0) objects.push_back(mapping.object);
  }
  std::sort(objects.begin(), objects.end());
  objects.erase(std::unique(objects.begin(), objects.end()), objects.end());
  for (uint64_t object : objects) {
    Bo& bo = file.bo(object);
    if (bo.resident) continue;
    uint16_t instance = 0;
    int rc = memory_.Place(bo.placement, bo.size, &instance);
    if (rc != 0) {
      ++counters_.rebind_failures;
      return rc;
    }
    bo.resident = instance;
  }
  return 0;
}

void Device::FailVmLocked(File& file, uint32_t vm_id, Vm& vm, int error) {
  const uint64_t detected_ns = MonotonicNowNs();
  vm.error = error;
  if (vm.restartable() && (error == -ENOMEM || error == -ENOSPC)) {
    vm.state = VmState::kPaused;
    ++counters_.vms_paused;
    PostVmErrorLocked(file, vm_id, error, detected_ns);
  } else {
    vm.state = VmState::kBanned;
    ++counters_.vms_banned;
  }
}

void Device::PostVmErrorLocked(File& file, uint32_t vm_id, int error,
                               uint64_t timestamp_ns) {
  if (file.watches.empty() && !record_sink_) {
    ++counters_.records_unwatched;
    return;
  }
  if (script_.TakeRecordDrop(file.id)) {
    ++counters_.records_dropped;
    return;
  }
  drm_xe_watch_notification_vm_err record{};
  record.base.type = WATCH_TYPE_DRM_XE_NOTIFY;
  record.base.subtype = DRM_XE_WATCH_EVENT_VM_ERR;
  record.base.info = sizeof(record);  // length; the queue ORs the watch id
  record.vm_id = vm_id;
  record.error_code = error;
  record.timestamp_ns = timestamp_ns;
  absl::Span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(&record),
                                  sizeof(record));
  if (record_sink_) {
    record_sink_(file.id, bytes);
    ++counters_.records_posted;
    return;
  }
  for (const internal::Watch& watch : file.watches) {
    if (watch.queue->Post(bytes, watch.watch_id)) {
      ++counters_.records_posted;
    } else {
      ++counters_.records_refused;
    }
  }
}

int Device::RestartVm(FileId file, uint32_t vm_id, uint64_t timestamp_ns) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  Vm* vm = FindVmLocked(file, vm_id);
  if (f == nullptr || vm == nullptr || vm->state == VmState::kBanned) {
    return -ENOENT;
  }
  if (!vm->preempt_fence_mode() || !vm->restartable()) return -EINVAL;
  if (vm->state != VmState::kPaused) return -EALREADY;
  ++counters_.restarts;
  if (timestamp_ns != 0) {
    // The driver logs event-to-restart latency; keep the last one.
    uint64_t now = MonotonicNowNs();
    ++counters_.restart_latency_samples;
    counters_.last_restart_latency_ns =
        now > timestamp_ns ? now - timestamp_ns : 0;
  }
  if (script_.TakeRestartAgain(file, vm_id)) {
    ++counters_.restarts_again;
    return -EAGAIN;
  }
  // Seed semantics: the rebind runs here, synchronously.
  int rc = RebindLocked(*f, vm_id, /*retry_again=*/false);
  if (rc == -EAGAIN) {
    ++counters_.restarts_again;
    return -EAGAIN;
  }
  if (rc == 0) {
    vm->state = VmState::kHealthy;
    vm->error = 0;
    ++counters_.restarts_succeeded;
    return 0;
  }
  // Not the return value: a new VM_ERR record (or a ban) reports it.
  ++counters_.restarts_failed;
  FailVmLocked(*f, vm_id, *vm, rc);
  return 0;
}

void Device::EvictLocked(File& file, Bo& bo) {
  memory_.Uncharge(*bo.resident, bo.size);
  bo.resident.reset();
  ++counters_.evictions;
  auto queue_rebind = [&](uint32_t vm_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto it = file.vms.find(vm_id);
    if (it == file.vms.end()) return;
    Vm& vm = it->second;
    if (vm.preempt_fence_mode() && vm.state == VmState::kHealthy) {
      QueueRebindLocked(file.id, vm_id, vm);
    }
  };
  queue_rebind(bo.private_vm);
  for (const auto& [vm_id, count] : bo.vm_refs) queue_rebind(vm_id);
}

void Device::EvictForRoomLocked(uint16_t instance, uint64_t bytes) {
  // Oldest file and BO first: a stand-in for TTM's LRU that stays
  // deterministic.
  for (auto& [file_id, file] : files_) {
    for (auto& [object, bo] : file.objects) {
      if (memory_.Fits(instance, bytes)) return;
      if (bo.resident != instance) continue;
      if (UsedByPreemptFenceVm(file, bo)) EvictLocked(file, bo);
    }
  }
}

}  // namespace xehil::sim
