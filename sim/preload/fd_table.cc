#include "sim/preload/fd_table.h"

#include <utility>

namespace xehil::preload {

FdTable::FdTable() {
  for (auto& hint : hints_) hint.store(0, std::memory_order_relaxed);
}

FdKind FdTable::Hint(int fd) const {
  if (fd < 0) return FdKind::kNone;
  if (fd < kFastFds) {
    return static_cast<FdKind>(hints_[fd].load(std::memory_order_acquire));
  }
  if (slow_entries_.load(std::memory_order_acquire) == 0) return FdKind::kNone;
  std::lock_guard<std::mutex> lock(mu_);
  return GetLocked(fd).kind;
}

FdEntry FdTable::Get(int fd) const {
  if (Hint(fd) == FdKind::kNone) return FdEntry{};
  std::lock_guard<std::mutex> lock(mu_);
  return GetLocked(fd);
}

Forgotten FdTable::Add(int fd, FdEntry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  return AddLocked(fd, std::move(entry));
}

Forgotten FdTable::Remove(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  return RemoveLocked(fd);
}

Forgotten FdTable::RemoveIf(int fd, const FdIdentity& identity) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(fd);
  if (it == entries_.end() || it->second.identity != identity) {
    return Forgotten{};
  }
  return RemoveLocked(fd);
}

FdEntry FdTable::GetLocked(int fd) const {
  auto it = entries_.find(fd);
  return it == entries_.end() ? FdEntry{} : it->second;
}

void FdTable::SetHintLocked(int fd, FdKind kind) {
  if (fd < kFastFds) {
    hints_[fd].store(static_cast<uint8_t>(kind), std::memory_order_release);
  }
}

Forgotten FdTable::AddLocked(int fd, FdEntry entry) {
  if (fd < 0 || entry.kind == FdKind::kNone) return Forgotten{};
  Forgotten stale = RemoveLocked(fd);
  if (entry.pipe != nullptr) {
    if (entry.kind == FdKind::kNotifyRead) entry.pipe->read_ends_++;
    if (entry.kind == FdKind::kNotifyWrite) entry.pipe->write_ends_++;
  }
  const FdKind kind = entry.kind;
  entries_.emplace(fd, std::move(entry));
  if (fd >= kFastFds) slow_entries_++;
  SetHintLocked(fd, kind);
  return stale;
}

Forgotten FdTable::RemoveLocked(int fd) {
  auto it = entries_.find(fd);
  if (it == entries_.end()) return Forgotten{};
  Forgotten gone;
  gone.entry = std::move(it->second);
  entries_.erase(it);
  if (fd >= kFastFds) slow_entries_--;
  SetHintLocked(fd, FdKind::kNone);
  NotifyPipe* pipe = gone.entry.pipe.get();
  if (pipe != nullptr) {
    if (gone.entry.kind == FdKind::kNotifyRead) pipe->read_ends_--;
    if (gone.entry.kind == FdKind::kNotifyWrite && --pipe->write_ends_ == 0) {
      pipe->writers_gone_.store(true, std::memory_order_release);
      gone.last_writer = true;
    }
  }
  return gone;
}

std::vector<std::pair<int, std::shared_ptr<NotifyPipe>>>
FdTable::NotifyReadEnds() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<int, std::shared_ptr<NotifyPipe>>> ends;
  for (const auto& [fd, entry] : entries_) {
    if (entry.kind != FdKind::kNotifyRead || entry.pipe == nullptr) continue;
    bool seen = false;
    for (const auto& end : ends) seen |= end.second == entry.pipe;
    if (!seen) ends.emplace_back(fd, entry.pipe);
  }
  return ends;
}

}  // namespace xehil::preload
