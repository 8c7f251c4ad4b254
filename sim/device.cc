// Device lifecycle, files, watches, the worker thread, the fault script,
// memory pressure and introspection. Object ioctls are in device_objects.cc,
// rebinds, restarts and records in device_rebind.cc.
#include "sim/device.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

namespace xehil::sim {

using internal::File;
using internal::Vm;

absl::StatusOr<std::shared_ptr<Device>> Device::Start(DeviceProfile profile) {
  auto device = std::make_shared<Device>(PassKey{}, std::move(profile));
  try {
    device->worker_ = std::thread([d = device.get()] { d->WorkerLoop(); });
  } catch (const std::system_error& error) {
    return ErrnoToStatus(-error.code().value(),
                         "starting the simulated device's rebind worker");
  }
  return device;
}

std::shared_ptr<Device> Device::Create(DeviceProfile profile) {
  absl::StatusOr<std::shared_ptr<Device>> device = Start(std::move(profile));
  if (!device.ok()) {
    std::fprintf(stderr, "xehil: %s\n", device.status().ToString().c_str());
    std::abort();
  }
  return *std::move(device);
}

absl::StatusOr<std::shared_ptr<Device>> Device::Create(absl::string_view name) {
  absl::StatusOr<DeviceProfile> profile = FindProfile(name);
  if (!profile.ok()) return profile.status();
  return Start(*std::move(profile));
}

Device::Device(PassKey, DeviceProfile profile)
    : profile_(std::move(profile)), memory_(profile_.regions) {}

Device::~Device() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  work_cv_.SignalAll();
  if (worker_.joinable()) worker_.join();
}

File* Device::FindFileLocked(FileId file) {
  auto it = files_.find(file);
  return it == files_.end() ? nullptr : &it->second;
}

const File* Device::FindFileLocked(FileId file) const {
  auto it = files_.find(file);
  return it == files_.end() ? nullptr : &it->second;
}

Vm* Device::FindVmLocked(FileId file, uint32_t vm_id) {
  File* f = FindFileLocked(file);
  if (f == nullptr) return nullptr;
  auto it = f->vms.find(vm_id);
  return it == f->vms.end() ? nullptr : &it->second;
}

FileId Device::OpenFile() {
  absl::MutexLock lock(&mu_);
  FileId id = next_file_++;
  files_[id].id = id;
  return id;
}

void Device::ReleaseFile(FileId id) {
  std::vector<std::shared_ptr<NotificationQueue>> doomed;
  {
    absl::MutexLock lock(&mu_);
    File* file = FindFileLocked(id);
    if (file == nullptr) return;
    // As the kernel does when the watched object goes: a removal record to
    // every watch, then the watch goes; a queue left with no watch at all
    // loses the simulator's write end.
    std::vector<std::shared_ptr<NotificationQueue>> unwatched;
    for (const internal::Watch& watch : file->watches) {
      if (watch.queue->PostRemoval(watch.watch_id)) ++counters_.removals_posted;
      unwatched.push_back(watch.queue);
    }
    file->watches.clear();
    for (const auto& queue : unwatched) {
      bool watched_elsewhere = false;
      for (const auto& [other_id, other] : files_) {
        for (const internal::Watch& watch : other.watches) {
          watched_elsewhere |= watch.queue == queue;
        }
      }
      if (!watched_elsewhere) queue->CloseWriteEnd();
    }
    for (const auto& [object_id, bo] : file->objects) {
      if (bo.resident) memory_.Uncharge(*bo.resident, bo.size);
    }
    script_.ForgetFile(id);
    rebind_queue_.erase(
        std::remove_if(rebind_queue_.begin(), rebind_queue_.end(),
                       [id](const RebindTicket& t) { return t.file == id; }),
        rebind_queue_.end());
    // Queues are destroyed outside the lock (their destructor closes fds).
    doomed = std::move(file->opened_queues);
    for (auto& queue : unwatched) doomed.push_back(std::move(queue));
    files_.erase(id);
    queues_.erase(std::remove_if(queues_.begin(), queues_.end(),
                                 [](const std::weak_ptr<NotificationQueue>& q) {
                                   return q.expired();
                                 }),
                  queues_.end());
    if (rebind_queue_.empty() && !worker_busy_) idle_cv_.SignalAll();
  }
  doomed.clear();
}

void Device::AdoptQueue(FileId file, std::shared_ptr<NotificationQueue> queue) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return;
  queues_.erase(std::remove_if(queues_.begin(), queues_.end(),
                               [](const std::weak_ptr<NotificationQueue>& q) {
                                 return q.expired();
                               }),
                queues_.end());
  queues_.push_back(queue);
  f->opened_queues.push_back(std::move(queue));
}

int Device::WatchQueue(FileId file, int fd, uint8_t watch_id) {
  absl::MutexLock lock(&mu_);
  File* f = FindFileLocked(file);
  if (f == nullptr) return -ENOENT;
  std::shared_ptr<NotificationQueue> queue;
  for (const auto& weak : queues_) {
    std::shared_ptr<NotificationQueue> candidate = weak.lock();
    if (candidate != nullptr && candidate->Refers(fd)) {
      queue = std::move(candidate);
      break;
    }
  }
  if (queue == nullptr) return -EINVAL;  // not a notification pipe
  for (const internal::Watch& watch : f->watches) {
    if (watch.queue == queue) return -EBUSY;
  }
  f->watches.push_back({std::move(queue), watch_id});
  return 0;
}

void Device::SetRecordSink(RecordSink sink) {
  absl::MutexLock lock(&mu_);
  record_sink_ = std::move(sink);
}

void Device::CountIoctl(const std::string& name, int result) {
  absl::MutexLock lock(&mu_);
  ++counters_.ioctls[name][result];
}

absl::Status Device::FailNextRebinds(FileId file, uint32_t vm_id,
                                     uint32_t count, int error) {
  if (error >= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("rebind error must be a negative errno, got ", error));
  }
  absl::MutexLock lock(&mu_);
  if (FindVmLocked(file, vm_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("file ", file, " has no VM ", vm_id));
  }
  script_.FailRebinds(file, vm_id, count, error);
  return absl::OkStatus();
}

absl::Status Device::FailNextRestarts(FileId file, uint32_t vm_id,
                                      uint32_t count) {
  absl::MutexLock lock(&mu_);
  if (FindVmLocked(file, vm_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("file ", file, " has no VM ", vm_id));
  }
  script_.AgainRestarts(file, vm_id, count);
  return absl::OkStatus();
}

absl::Status Device::DropNextRecords(FileId file, uint32_t count) {
  absl::MutexLock lock(&mu_);
  if (FindFileLocked(file) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no open file ", file));
  }
  script_.DropRecords(file, count);
  return absl::OkStatus();
}

absl::Status Device::TriggerRebind(FileId file, uint32_t vm_id) {
  absl::MutexLock lock(&mu_);
  Vm* vm = FindVmLocked(file, vm_id);
  if (vm == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("file ", file, " has no VM ", vm_id));
  }
  if (!vm->preempt_fence_mode()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "VM ", vm_id, " is not in preempt-fence mode: no rebind worker"));
  }
  if (vm->state != VmState::kHealthy) {
    return absl::FailedPreconditionError(
        absl::StrCat("VM ", vm_id, " is ",
                     vm->state == VmState::kPaused ? "paused" : "banned",
                     ": its rebind worker is not running"));
  }
  QueueRebindLocked(file, vm_id, *vm);
  return absl::OkStatus();
}

absl::Status Device::InjectPressure(uint16_t instance, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  absl::Status status = memory_.AddPressure(instance, bytes);
  if (status.ok()) EvictForRoomLocked(instance, 0);
  return status;
}

absl::Status Device::ReleasePressure(uint16_t instance, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  return memory_.RemovePressure(instance, bytes);
}

std::vector<RegionUsage> Device::Regions() const {
  absl::MutexLock lock(&mu_);
  return memory_.regions();
}

absl::StatusOr<VmStatus> Device::GetVm(FileId file, uint32_t vm_id) const {
  absl::MutexLock lock(&mu_);
  const File* f = FindFileLocked(file);
  if (f != nullptr) {
    auto it = f->vms.find(vm_id);
    if (it != f->vms.end()) {
      const Vm& vm = it->second;
      return VmStatus{vm.flags, vm.state, vm.error, vm.rebind_pending};
    }
  }
  return absl::NotFoundError(absl::StrCat("file ", file, " has no VM ", vm_id));
}

absl::StatusOr<std::map<uint32_t, VmStatus>> Device::ListVms(
    FileId file) const {
  absl::MutexLock lock(&mu_);
  const File* f = FindFileLocked(file);
  if (f == nullptr) {
    return absl::NotFoundError(absl::StrCat("no open file ", file));
  }
  std::map<uint32_t, VmStatus> vms;
  for (const auto& [vm_id, vm] : f->vms) {
    vms[vm_id] = VmStatus{vm.flags, vm.state, vm.error, vm.rebind_pending};
  }
  return vms;
}

absl::StatusOr<BoStatus> Device::GetBo(FileId file, uint32_t handle) const {
  absl::MutexLock lock(&mu_);
  const File* f = FindFileLocked(file);
  if (f != nullptr) {
    auto it = f->handles.find(handle);
    if (it != f->handles.end()) {
      const internal::Bo& bo = f->bo(it->second);
      return BoStatus{bo.size, bo.placement, bo.resident};
    }
  }
  return absl::NotFoundError(
      absl::StrCat("file ", file, " has no GEM handle ", handle));
}

DeviceCounters Device::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

void Device::WaitIdle() {
  absl::MutexLock lock(&mu_);
  while (!rebind_queue_.empty() || worker_busy_) idle_cv_.Wait(&mu_);
}

void Device::SetRebindHookForTesting(
    std::function<void(FileId, uint32_t)> hook) {
  absl::MutexLock lock(&mu_);
  rebind_hook_ = std::move(hook);
}

void Device::WorkerLoop() {
  mu_.Lock();
  for (;;) {
    while (!stopping_ && rebind_queue_.empty()) work_cv_.Wait(&mu_);
    if (stopping_) break;
    RebindTicket ticket = rebind_queue_.front();
    rebind_queue_.pop_front();
    worker_busy_ = true;
    if (rebind_hook_) {
      std::function<void(FileId, uint32_t)> hook = rebind_hook_;
      mu_.Unlock();
      hook(ticket.file, ticket.vm_id);
      mu_.Lock();
    }
    // The file or VM may have gone while the lock was released.
    RunTicketLocked(ticket);
    worker_busy_ = false;
    if (rebind_queue_.empty()) idle_cv_.SignalAll();
  }
  mu_.Unlock();
}

}  // namespace xehil::sim
