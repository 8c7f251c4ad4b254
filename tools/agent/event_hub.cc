#include "tools/agent/event_hub.h"

#include <utility>

#include "absl/synchronization/mutex.h"

namespace xehil::agent {

uint64_t EventHub::Subscribe(OnEvent on_event, OnClose on_close) {
  absl::MutexLock lock(&mu_);
  if (closed_) return 0;
  const uint64_t id = next_id_++;
  subscribers_[id] = {std::move(on_event), std::move(on_close)};
  return id;
}

void EventHub::Unsubscribe(uint64_t id) {
  absl::MutexLock lock(&mu_);
  subscribers_.erase(id);
}

void EventHub::Publish(const lab::AgentEvent& event) {
  absl::MutexLock lock(&mu_);
  ++published_;
  for (auto& [id, subscriber] : subscribers_) {
    if (subscriber.on_event) subscriber.on_event(event);
  }
}

void EventHub::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  for (auto& [id, subscriber] : subscribers_) {
    if (subscriber.on_close) subscriber.on_close();
  }
  subscribers_.clear();
}

size_t EventHub::subscribers() const {
  absl::MutexLock lock(&mu_);
  return subscribers_.size();
}

uint64_t EventHub::published() const {
  absl::MutexLock lock(&mu_);
  return published_;
}

}  // namespace xehil::agent
