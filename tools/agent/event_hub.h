// EventHub: fans the watch events the agent's listeners see (scenario runs)
// out to every WatchEvents stream.
//
//   EventHub hub;
//   uint64_t id = hub.Subscribe([](const lab::AgentEvent& e) { ... },
//                               [] { /* the hub closed */ });
//   hub.Publish(event);   // from a listener's thread
//   hub.Unsubscribe(id);  // no callback for `id` runs after this returns
//
// Callbacks run under the hub's lock, one at a time: they must be quick
// (queue the event) and must not call back into the hub. Thread-safe.
#ifndef XEHIL_TOOLS_AGENT_EVENT_HUB_H_
#define XEHIL_TOOLS_AGENT_EVENT_HUB_H_

#include <cstdint>
#include <functional>
#include <map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "proto/lab.pb.h"

namespace xehil::agent {

class EventHub {
 public:
  using OnEvent = std::function<void(const lab::AgentEvent&)>;
  using OnClose = std::function<void()>;

  // 0 (and no callback ever) once the hub is closed.
  uint64_t Subscribe(OnEvent on_event, OnClose on_close);
  void Unsubscribe(uint64_t id);
  void Publish(const lab::AgentEvent& event);
  // Calls every subscriber's on_close, drops them, refuses new ones.
  void Close();

  size_t subscribers() const;
  uint64_t published() const;

 private:
  struct Subscriber {
    OnEvent on_event;
    OnClose on_close;
  };

  mutable absl::Mutex mu_;
  std::map<uint64_t, Subscriber> subscribers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t published_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_EVENT_HUB_H_
