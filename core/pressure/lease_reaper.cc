#include "core/pressure/lease_reaper.h"

#include <algorithm>
#include <system_error>

#include "core/base/errno_status.h"

namespace xehil {

LeaseReaper::~LeaseReaper() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  cv_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

LeaseReaper::Clock::time_point LeaseReaper::DeadlineAfter(
    absl::Duration after) {
  // Clamp so that an infinite or huge TTL cannot overflow the time point.
  const absl::Duration capped =
      std::min(std::max(after, absl::ZeroDuration()), absl::Hours(24 * 365));
  return Clock::now() + absl::ToChronoNanoseconds(capped);
}

absl::StatusOr<LeaseReaper::Id> LeaseReaper::Schedule(
    absl::Duration after, std::function<void()> callback) {
  const Clock::time_point deadline = DeadlineAfter(after);
  Id id;
  {
    absl::MutexLock lock(&mu_);
    if (!thread_.joinable()) {
      try {
        thread_ = std::thread([this] { Loop(); });
      } catch (const std::system_error& e) {
        return ErrnoToStatus(e.code().value(),
                             "lease reaper: starting its thread");
      }
    }
    id = next_id_++;
    entries_[id] = Entry{deadline, std::move(callback)};
    by_deadline_.emplace(deadline, id);
  }
  cv_.SignalAll();
  return id;
}

bool LeaseReaper::Reschedule(Id id, absl::Duration after) {
  const Clock::time_point deadline = DeadlineAfter(after);
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    by_deadline_.erase({it->second.deadline, id});
    it->second.deadline = deadline;
    by_deadline_.emplace(deadline, id);
  }
  cv_.SignalAll();
  return true;
}

bool LeaseReaper::Cancel(Id id) {
  std::function<void()> dropped;  // destroyed after the lock is released
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  by_deadline_.erase({it->second.deadline, id});
  dropped = std::move(it->second.callback);
  entries_.erase(it);
  return true;
}

size_t LeaseReaper::pending() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void LeaseReaper::Loop() {
  mu_.Lock();
  while (!stopping_) {
    if (by_deadline_.empty()) {
      cv_.Wait(&mu_);
      continue;
    }
    const auto [deadline, id] = *by_deadline_.begin();
    const Clock::time_point now = Clock::now();
    if (now < deadline) {
      cv_.WaitWithTimeout(&mu_, absl::FromChrono(deadline - now));
      continue;
    }
    by_deadline_.erase(by_deadline_.begin());
    auto it = entries_.find(id);
    std::function<void()> callback = std::move(it->second.callback);
    entries_.erase(it);
    mu_.Unlock();
    callback();
    callback = nullptr;  // its captures go before the lock is retaken
    mu_.Lock();
  }
  mu_.Unlock();
}

}  // namespace xehil
