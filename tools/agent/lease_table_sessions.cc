// LeaseTable: listing, stream sessions and shutdown.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "tools/agent/lease_table.h"
#include "tools/agent/structured_log.h"

namespace xehil::agent {

std::vector<LeaseInfo> LeaseTable::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<LeaseInfo> out;
  for (const auto& [id, entry] : entries_) out.push_back(Snapshot(entry));
  return out;
}

uint64_t LeaseTable::HeldBytes(const std::string& provider) const {
  absl::MutexLock lock(&mu_);
  uint64_t held = 0;
  for (const auto& [id, entry] : entries_) {
    if (entry.info.provider == provider) held += entry.info.bytes;
  }
  return held;
}

std::string LeaseTable::OpenSession(const std::string& holder,
                                    SessionListener listener) {
  std::string id;
  {
    absl::MutexLock lock(&mu_);
    id = absl::StrCat("session-", id_prefix_, "-", next_id_++);
    if (!shut_down_) session_holders_[id] = holder;
  }
  {
    absl::MutexLock lock(&sessions_mu_);
    listeners_[id] = std::move(listener);
  }
  if (logger_) {
    logger_(JsonLine("lease")
                .Add("event", "session-opened")
                .Add("session", id)
                .Add("holder", holder)
                .Build());
  }
  return id;
}

void LeaseTable::CloseSession(const std::string& id) {
  {
    absl::MutexLock lock(&sessions_mu_);
    listeners_.erase(id);
  }
  std::vector<Entry> taken;
  std::string holder;
  {
    absl::MutexLock lock(&mu_);
    auto session = session_holders_.find(id);
    if (session == session_holders_.end()) return;
    holder = session->second;
    session_holders_.erase(session);
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->second.info.session == id) {
        reaper_.Cancel(it->second.expiry);
        taken.push_back(std::move(it->second));
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  EndAll(std::move(taken), LeaseEnd::kStreamDropped, "");
  if (logger_) {
    logger_(JsonLine("lease")
                .Add("event", "session-closed")
                .Add("session", id)
                .Add("holder", holder)
                .Build());
  }
}

void LeaseTable::Shutdown() {
  std::vector<Entry> taken;
  {
    absl::MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [id, entry] : entries_) {
      reaper_.Cancel(entry.expiry);
      taken.push_back(std::move(entry));
    }
    entries_.clear();
  }
  EndAll(std::move(taken), LeaseEnd::kShutdown, "");
}

}  // namespace xehil::agent
