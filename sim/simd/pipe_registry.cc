#include "sim/simd/pipe_registry.h"

#include <errno.h>
#include <fcntl.h>

#include <algorithm>
#include <string>
#include <utility>

#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

namespace xehil::simd {

absl::StatusOr<uint64_t> PipeRegistry::Register(UniqueFd write_end,
                                                uint64_t owner, uint32_t pid) {
  if (!write_end.valid()) return absl::InvalidArgumentError("no descriptor");
  // An O_PATH handle, not a write end: the daemon must not keep the pipe
  // from reading EOF (the kernel is not a writer). A dup without /proc.
  const std::string self = "/proc/self/fd/" + std::to_string(write_end.get());
  UniqueFd probe(::open(self.c_str(), O_PATH | O_CLOEXEC));
  if (!probe.valid())
    probe = UniqueFd(::fcntl(write_end.get(), F_DUPFD_CLOEXEC, 0));
  if (!probe.valid()) return ErrnoToStatus(-errno, "dup pipe descriptor");

  absl::MutexLock lock(&mu_);
  if (next_id_ >= (uint64_t{1} << 31)) {
    return absl::ResourceExhaustedError("pipe ids exhausted");
  }
  queues_.erase(std::remove_if(queues_.begin(), queues_.end(),
                               [](const auto& q) { return q.expired(); }),
                queues_.end());
  std::shared_ptr<sim::NotificationQueue> queue;
  for (const auto& weak : queues_) {
    std::shared_ptr<sim::NotificationQueue> live = weak.lock();
    if (live != nullptr && live->Refers(write_end.get())) {
      queue = std::move(live);
      break;
    }
  }
  if (queue == nullptr) {
    // Adopt checks that this is a pipe open for writing.
    absl::StatusOr<std::shared_ptr<sim::NotificationQueue>> adopted =
        sim::NotificationQueue::Adopt(std::move(write_end));
    if (!adopted.ok()) return adopted.status();
    queue = *std::move(adopted);
    queues_.push_back(queue);
  } else {
    const int flags = ::fcntl(write_end.get(), F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
      return absl::InvalidArgumentError("not the write end of a pipe");
    }
  }
  auto entry = std::make_shared<Entry>();
  entry->id = next_id_++;
  entry->queue = std::move(queue);
  entry->probe = std::move(probe);
  entry->owner = owner;
  entry->pid = pid;
  const uint64_t id = entry->id;
  entries_[id] = std::move(entry);
  ++registered_;
  return id;
}

std::shared_ptr<const PipeRegistry::Entry> PipeRegistry::Find(
    uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : it->second;
}

std::shared_ptr<const PipeRegistry::Entry> PipeRegistry::FindOwned(
    uint64_t id, uint64_t owner) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->owner != owner) return nullptr;
  return it->second;
}

bool PipeRegistry::Release(uint64_t id, uint64_t owner) {
  std::shared_ptr<const Entry> doomed;  // closed outside the lock
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second->owner != owner) return false;
  doomed = std::move(it->second);
  entries_.erase(it);
  return true;
}

void PipeRegistry::ReleaseAll(uint64_t owner) {
  std::vector<std::shared_ptr<const Entry>> doomed;
  absl::MutexLock lock(&mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second->owner == owner) {
      doomed.push_back(std::move(it->second));
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t PipeRegistry::CountOwnedBy(uint64_t owner) const {
  absl::MutexLock lock(&mu_);
  size_t count = 0;
  for (const auto& [id, entry] : entries_) count += entry->owner == owner;
  return count;
}

std::vector<PipeRegistry::Info> PipeRegistry::List() const {
  std::vector<std::shared_ptr<const Entry>> entries;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : entries_) entries.push_back(entry);
  }
  std::vector<Info> infos;
  infos.reserve(entries.size());
  for (const auto& entry : entries) {
    infos.push_back({entry->id, entry->pid, entry->queue->capacity_notes(),
                     entry->queue->stats()});
  }
  return infos;
}

uint64_t PipeRegistry::registered_total() const {
  absl::MutexLock lock(&mu_);
  return registered_;
}

}  // namespace xehil::simd
