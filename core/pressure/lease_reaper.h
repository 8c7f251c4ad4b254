// LeaseReaper: runs a callback when a deadline passes, on one owned thread.
// Every pressure injector uses it to end leases whose TTL expired, so a lease
// handed out by the lab agent gives its memory back even when nobody calls
// Release.
//
//   auto reaper = std::make_shared<LeaseReaper>();
//   XEHIL_ASSIGN_OR_RETURN(LeaseReaper::Id id,
//                          reaper->Schedule(absl::Seconds(30), [] { ... }));
//   reaper->Reschedule(id, absl::Seconds(30));  // renewed
//   reaper->Cancel(id);                         // released early
//
// The thread starts with the first Schedule() (which fails, scheduling
// nothing, if the system refuses a thread) and is joined by the destructor;
// callbacks still pending then are dropped without running. Deadlines use the
// steady clock. Callbacks run one at a time, without the reaper's lock, so they
// may call Schedule/Reschedule/Cancel; they must not destroy the reaper.
// Thread-safe.
#ifndef XEHIL_CORE_PRESSURE_LEASE_REAPER_H_
#define XEHIL_CORE_PRESSURE_LEASE_REAPER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xehil {

class LeaseReaper {
 public:
  using Id = uint64_t;  // never 0, never reused

  LeaseReaper() = default;
  ~LeaseReaper();
  LeaseReaper(const LeaseReaper&) = delete;
  LeaseReaper& operator=(const LeaseReaper&) = delete;

  // Runs `callback` on the reaper thread once `after` has passed (at once if
  // it is zero or negative). UNAVAILABLE or RESOURCE_EXHAUSTED (with the
  // errno) if the thread cannot be started; then nothing is scheduled.
  absl::StatusOr<Id> Schedule(absl::Duration after,
                              std::function<void()> callback);

  // Moves a pending callback's deadline to now + `after`. False if `id` is
  // not pending (it ran, is running, or was cancelled).
  bool Reschedule(Id id, absl::Duration after);

  // Drops a pending callback. False if it is not pending; a callback that is
  // running right now finishes (Cancel does not wait for it).
  bool Cancel(Id id);

  // Callbacks scheduled and not yet run or cancelled.
  size_t pending() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    Clock::time_point deadline;
    std::function<void()> callback;
  };

  static Clock::time_point DeadlineAfter(absl::Duration after);
  void Loop();

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // earliest deadline changed, or stopping
  std::map<Id, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::set<std::pair<Clock::time_point, Id>> by_deadline_ ABSL_GUARDED_BY(mu_);
  Id next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Started by the first Schedule(); joined by the destructor.
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil

#endif  // XEHIL_CORE_PRESSURE_LEASE_REAPER_H_
