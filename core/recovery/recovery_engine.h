// RecoveryEngine: restarts VMs paused by VM_ERR records, off the listener
// thread, under a pluggable RecoveryPolicy (recovery_policy.h).
//
// The listener's callback only calls Post(), which enqueues and returns at
// once, so the notification pipe is always drained promptly. One worker
// thread owned by the engine takes the events in order and:
//  - folds duplicate VM_ERRs for a VM whose restart is pending or backing
//    off into that one restart, and drops records timestamped before the
//    VM's last restart began (they were already answered) — both counted as
//    coalesced;
//  - asks the policy what to do with every other VM_ERR, and restarts at
//    once or after the policy's backoff delay (a timed wait on a condition
//    variable; no polling);
//  - learns that a restart did not take from a new VM_ERR timestamped after
//    that restart began (VM_RESTART runs the rebind synchronously and posts a
//    VM_ERR during the ioctl if it fails again), which grows the VM's
//    consecutive-failure count and so the backoff;
//  - treats VM_RESTART's -ENOENT (VM gone) and -EALREADY (not paused) as
//    benign; other restart errors go to the policy;
//  - on Lost, reconciles: every VM in XeDevice::RestartableVms() with no
//    restart pending is restarted (-EALREADY: it was fine); on Removed, stops.
//
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<RecoveryEngine> engine,
//                          RecoveryEngine::Start(dev));   // default policy
//   XEHIL_ASSIGN_OR_RETURN(auto listener, Listener::Start(std::move(pipe),
//       [&](const WatchEvent& e) { engine->Post(e); }));
//   ...
//   engine->WaitUntilQuiescent(std::chrono::seconds(5));
//   RecoveryEngine::Stats s = engine->stats();
//   listener->Stop();   // first: it calls into the engine
//   engine->Stop();
//
// Latency: for each error-driven restart the engine records, just before the
// VM_RESTART ioctl, CLOCK_MONOTONIC now minus the timestamp of the first
// VM_ERR that restart answers (the record's own timestamp_ns; the arrival
// time at Post() if the record carried none). Backoff delays are included:
// it is the time the VM spent paused before the engine acted.
//
// Thread-safety: every public method may be called from any thread. The
// XeDevice and the policy must outlive the engine.
#ifndef XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_H_
#define XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/device/xe_device.h"
#include "core/metrics/latency_histogram.h"
#include "core/recovery/recovery_policy.h"
#include "core/watch/events.h"

namespace xehil {

class RecoveryEngine {
 public:
  struct Options {
    // A VM_ERR later than this after a VM's last successful restart starts a
    // new episode (consecutive failures back to 1, so no backoff).
    std::chrono::nanoseconds quiet_period = std::chrono::seconds(1);
    // Post() drops events beyond this many queued and schedules a reconcile,
    // exactly as for a Lost record, so memory stays bounded.
    size_t max_queued_events = 65536;
    // Reports kept (oldest dropped first; Stats::reported counts them all).
    size_t max_reports = 256;
    // Reads CLOCK_MONOTONIC in ns, the clock of the records' timestamps; null:
    // MonotonicNowNs. Tests give a coarse one: a kernel on the jiffies
    // clocksource ticks every 1 to 10 ms.
    std::function<uint64_t()> clock;
  };

  // Something the engine did not restart: a non-restartable errno, a VM given
  // up, a failed restart.
  struct Report {
    uint32_t vm_id = 0;
    int32_t error = 0;  // the VM_ERR's or the restart's negative errno
    std::string what;   // e.g. "VM_ERR -EIO (...) is not a restartable error"
    uint64_t monotonic_ns = 0;
  };

  struct Stats {
    uint64_t posted = 0;     // events accepted by Post()
    uint64_t dropped = 0;    // Post() after Stop() or beyond the queue bound
    uint64_t processed = 0;  // events the worker has handled
    uint64_t vm_errors = 0;  // handled events, by kind
    uint64_t losses = 0;
    uint64_t removals = 0;
    uint64_t unknowns = 0;
    uint64_t coalesced = 0;  // VM_ERRs folded into a pending/done restart
    uint64_t ignored = 0;    // VM_ERRs the policy ignored, or after removal
    uint64_t restarts_tried = 0;      // XeDevice::RestartVm calls
    uint64_t restarts_succeeded = 0;  // ioctl OK (the rebind ran)
    uint64_t restarts_failed = 0;     // errors other than the benign two
    uint64_t restarts_benign = 0;     // -ENOENT or -EALREADY
    uint64_t benign_gone = 0;         // -ENOENT
    uint64_t benign_not_paused = 0;   // -EALREADY
    uint64_t eagain_tries = 0;        // VM_RESTART ioctls answered -EAGAIN
    uint64_t hook_failures = 0;       // BeforeRestart vetoes
    uint64_t reconciles = 0;          // reconcile passes (Lost, overflow)
    // Reconcile restarts that found the VM paused (its VM_ERR was lost).
    uint64_t reconcile_restarts = 0;
    uint64_t reported = 0;  // reports made (see reports())
    uint64_t given_up = 0;  // VMs moved to kGivenUp
    LatencyHistogram::Summary latency;
    std::map<uint32_t, VmStatus> vms;

    // One line: the counters that are non-zero, then the latency.
    std::string ToString() const;
  };

  // Starts the worker. A null policy means DefaultRecoveryPolicy.
  static absl::StatusOr<std::unique_ptr<RecoveryEngine>> Start(
      XeDevice& device, std::unique_ptr<RecoveryPolicy> policy,
      Options options);
  static absl::StatusOr<std::unique_ptr<RecoveryEngine>> Start(
      XeDevice& device, std::unique_ptr<RecoveryPolicy> policy = nullptr) {
    return Start(device, std::move(policy), Options());
  }

  RecoveryEngine(const RecoveryEngine&) = delete;
  RecoveryEngine& operator=(const RecoveryEngine&) = delete;
  ~RecoveryEngine();  // Stop()

  // Enqueues one event and returns; never waits for a restart. Safe from the
  // listener's callback. Dropped (and counted) after Stop().
  void Post(const WatchEvent& event);

  // Stops the worker and joins it; pending restarts are abandoned and a
  // policy blocked in RecoveryContext::WaitFor is woken. Idempotent.
  void Stop();

  // Waits until no event is queued or being handled and no restart is
  // pending, backing off or running. Returns false on timeout, or if the
  // engine stopped before reaching that point. It knows only what was
  // posted: a VM_ERR still in the pipe (a restart that did not take) is not
  // seen, so with a listener in front wait for the expected counts first
  // (WaitFor), then for quiescence.
  bool WaitUntilQuiescent(std::chrono::nanoseconds timeout);

  // Waits until `predicate` holds for the stats (checked after each event and
  // restart the worker completes). False on timeout, or if the engine
  // stopped first and the predicate still fails.
  bool WaitFor(const std::function<bool(const Stats&)>& predicate,
               std::chrono::nanoseconds timeout);

  // As WaitFor, but `predicate` sees counters(), so each check costs the
  // same whatever the number of VMs, and the worker itself checks it after
  // each item (on its thread, under the engine's lock): the waiter is woken
  // once it holds, not by every event. `predicate` must not call the engine.
  bool WaitForCounters(const std::function<bool(const Stats&)>& predicate,
                       std::chrono::nanoseconds timeout);

  // Copies every VM's status: O(VMs). For one VM use vm_status(), for the
  // counters alone counters().
  Stats stats() const;
  // stats() without `vms` and `latency` (left empty).
  Stats counters() const;
  // The engine's view of one VM; nullopt for a VM it has never dealt with.
  std::optional<VmStatus> vm_status(uint32_t vm_id) const;
  std::vector<Report> reports() const;

  // Adds this engine's event-to-restart samples to `into`, so that several
  // engines' latencies can be summarised exactly together.
  void MergeLatencyInto(LatencyHistogram& into) const {
    into.MergeFrom(latency_);
  }

 private:
  struct Queued {
    WatchEvent event;
    uint64_t arrival_ns;
  };
  // Per-VM bookkeeping beyond the public VmStatus.
  struct Vm {
    VmStatus status;
    std::chrono::steady_clock::time_point due;  // kPending / kBackingOff
    uint64_t trigger_ns = 0;        // first VM_ERR the pending restart answers
    uint64_t restart_start_ns = 0;  // last VM_RESTART began (0: never)
    uint64_t restart_end_ns = 0;    // last VM_RESTART returned OK
    uint64_t settled_ns = 0;        // entered kFailed/kGivenUp/kGone
  };
  class Context;

  RecoveryEngine(XeDevice& device, std::unique_ptr<RecoveryPolicy> policy,
                 Options options);

  // options_.clock, else MonotonicNowNs().
  uint64_t NowNs() const;
  void Run();
  void HandleEvent(const Queued& queued);
  void HandleVmError(const VmError& error, uint64_t arrival_ns);
  void HandleLost();
  void HandleRemoved(const Removed& removed);
  void RunRestart(uint32_t vm_id);
  void FailRestart(uint32_t vm_id, const absl::Status& status);

  bool QuiescentLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the waiters if one of them can go on (see waiters_).
  void NotifyProgressLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits on progress_cv_ until `ready`, registered in waiters_ meanwhile;
  // `worker_checks`: the worker evaluates `ready` instead of waking always.
  void WaitLocked(const std::function<bool()>& ready, bool worker_checks,
                  std::chrono::nanoseconds timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Stats StatsLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleLocked(Vm& vm, std::chrono::nanoseconds delay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes a kPending/kBackingOff VM out of due_ before its state changes.
  void UnscheduleLocked(const Vm& vm) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SettleLocked(Vm& vm, VmState state, std::string reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportLocked(uint32_t vm_id, int32_t error, std::string what)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScheduleReconcileLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  XeDevice& device_;
  const std::unique_ptr<RecoveryPolicy> policy_;
  const Options options_;
  std::unique_ptr<RecoveryContext> context_;  // a Context
  LatencyHistogram latency_;

  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(join_mu_);
  absl::CondVar work_cv_;      // worker: events, deadlines, stop
  absl::CondVar progress_cv_;  // waiters: work done, stop
  // The threads blocked on progress_cv_: what each waits for, checked by the
  // worker after each item so that a thread waiting for the 10,000th restart
  // is not woken 20,000 times; null: wake it after every item.
  std::vector<const std::function<bool()>*> waiters_ ABSL_GUARDED_BY(mu_);
  absl::CondVar stop_cv_;  // policies in WaitFor
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  // The restarts scheduled (VMs kPending or kBackingOff) by due time, so
  // the worker finds the next one without looking at every VM.
  absl::btree_set<std::pair<std::chrono::steady_clock::time_point, uint32_t>>
      due_ ABSL_GUARDED_BY(mu_);
  // Events were dropped: reconcile.
  bool overflowed_ ABSL_GUARDED_BY(mu_) = false;
  bool busy_ ABSL_GUARDED_BY(mu_) = false;  // the worker is handling something
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  // The file is gone (policy said kStopAll).
  bool removed_ ABSL_GUARDED_BY(mu_) = false;
  // Written by the worker under mu_; the worker alone also reads it unlocked
  // (so it carries no ABSL_GUARDED_BY).
  // Hashed: the worker looks a VM up several times a restart, and with
  // thousands of VMs a tree walk is a cache miss a level.
  absl::node_hash_map<uint32_t, Vm> vms_;
  // `latency` and `vms` are filled in by StatsLocked.
  Stats counters_ ABSL_GUARDED_BY(mu_);
  std::deque<Report> reports_ ABSL_GUARDED_BY(mu_);

  absl::Mutex join_mu_;  // serialises Stop()
  std::thread worker_ ABSL_GUARDED_BY(join_mu_);
};

}  // namespace xehil

#endif  // XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_H_
