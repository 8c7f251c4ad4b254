// RecoveryEngine's machinery: lifecycle, queue, worker loop, waiting, stats.
// What it does with each event and restart is in recovery_engine_events.cc.
#include "core/recovery/recovery_engine.h"

#include <algorithm>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "core/recovery/default_policy.h"
#include "core/recovery/recovery_engine_internal.h"

namespace xehil {

using recovery_internal::IsPending;

namespace {
using Clock = std::chrono::steady_clock;
}  // namespace

// The engine's side of RecoveryContext, handed to every policy call.
class RecoveryEngine::Context : public RecoveryContext {
 public:
  explicit Context(RecoveryEngine& engine) : engine_(engine) {}

  XeDevice& device() override { return engine_.device_; }

  bool WaitFor(std::chrono::nanoseconds duration) override {
    absl::MutexLock lock(&engine_.mu_);
    const absl::Time deadline = absl::Now() + absl::FromChrono(duration);
    while (!engine_.stop_) {
      if (engine_.stop_cv_.WaitWithDeadline(&engine_.mu_, deadline)) break;
    }
    return !engine_.stop_;
  }

  bool stopping() const override {
    absl::MutexLock lock(&engine_.mu_);
    return engine_.stop_;
  }

 private:
  RecoveryEngine& engine_;
};

absl::StatusOr<std::unique_ptr<RecoveryEngine>> RecoveryEngine::Start(
    XeDevice& device, std::unique_ptr<RecoveryPolicy> policy, Options options) {
  if (policy == nullptr) policy = std::make_unique<DefaultRecoveryPolicy>();
  std::unique_ptr<RecoveryEngine> engine(
      new RecoveryEngine(device, std::move(policy), options));
  try {
    absl::MutexLock join_lock(&engine->join_mu_);
    engine->worker_ = std::thread([e = engine.get()] { e->Run(); });
  } catch (const std::system_error& error) {
    return ErrnoToStatus(-error.code().value(),
                         "starting the recovery engine's worker thread");
  }
  return engine;
}

RecoveryEngine::RecoveryEngine(XeDevice& device,
                               std::unique_ptr<RecoveryPolicy> policy,
                               Options options)
    : device_(device),
      policy_(std::move(policy)),
      options_(options),
      context_(std::make_unique<Context>(*this)) {}

RecoveryEngine::~RecoveryEngine() { Stop(); }

uint64_t RecoveryEngine::NowNs() const {
  return options_.clock ? options_.clock() : MonotonicNowNs();
}

void RecoveryEngine::Post(const WatchEvent& event) {
  const uint64_t arrival_ns = NowNs();
  absl::MutexLock lock(&mu_);
  if (stop_) {
    ++counters_.dropped;
    return;
  }
  if (queue_.size() >= options_.max_queued_events) {
    // Whatever was dropped may have been a VM_ERR: recover as from a loss.
    ++counters_.dropped;
    overflowed_ = true;
  } else {
    ++counters_.posted;
    queue_.push_back({event, arrival_ns});
  }
  work_cv_.Signal();
}

void RecoveryEngine::Stop() {
  absl::MutexLock join_lock(&join_mu_);
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  work_cv_.SignalAll();
  stop_cv_.SignalAll();
  progress_cv_.SignalAll();
  if (worker_.joinable()) worker_.join();
}

void RecoveryEngine::Run() {
  mu_.Lock();
  while (!stop_) {
    // Events first, so duplicates coalesce before the restart they duplicate.
    if (!queue_.empty() || overflowed_) {
      std::optional<Queued> queued;
      if (!queue_.empty()) {
        queued = queue_.front();
        queue_.pop_front();
      } else {
        overflowed_ = false;
      }
      busy_ = true;
      mu_.Unlock();
      if (queued.has_value()) {
        HandleEvent(*queued);
      } else {
        HandleLost();
      }
      mu_.Lock();
      busy_ = false;
      if (queued.has_value()) ++counters_.processed;
      NotifyProgressLocked();
      continue;
    }
    // Then the restart due first, if any.
    const Clock::time_point now = Clock::now();
    if (!due_.empty() && due_.begin()->first <= now) {
      const uint32_t vm_id = due_.begin()->second;
      // Only this thread changes VM states: it is still pending when
      // RunRestart marks it kRestarting.
      due_.erase(due_.begin());
      busy_ = true;
      mu_.Unlock();
      RunRestart(vm_id);
      mu_.Lock();
      busy_ = false;
      NotifyProgressLocked();
      continue;
    }
    if (!due_.empty()) {
      work_cv_.WaitWithTimeout(&mu_,
                               absl::FromChrono(due_.begin()->first - now));
    } else {
      work_cv_.Wait(&mu_);
    }
  }
  mu_.Unlock();
}

void RecoveryEngine::ScheduleLocked(Vm& vm, std::chrono::nanoseconds delay) {
  if (delay < std::chrono::nanoseconds(0)) delay = std::chrono::nanoseconds(0);
  UnscheduleLocked(vm);
  vm.status.state =
      delay.count() > 0 ? VmState::kBackingOff : VmState::kPending;
  vm.status.delay = delay;
  vm.due = Clock::now() + delay;
  due_.emplace(vm.due, vm.status.vm_id);
}

void RecoveryEngine::UnscheduleLocked(const Vm& vm) {
  if (IsPending(vm.status.state)) due_.erase({vm.due, vm.status.vm_id});
}

void RecoveryEngine::SettleLocked(Vm& vm, VmState state, std::string reason) {
  UnscheduleLocked(vm);
  vm.status.state = state;
  vm.status.reason = std::move(reason);
  vm.status.reconcile = false;
  vm.settled_ns = NowNs();
}

void RecoveryEngine::ReportLocked(uint32_t vm_id, int32_t error,
                                  std::string what) {
  ++counters_.reported;
  reports_.push_back({vm_id, error, std::move(what), NowNs()});
  while (reports_.size() > options_.max_reports) reports_.pop_front();
}

bool RecoveryEngine::QuiescentLocked() const {
  // A VM is kRestarting only while the worker is busy with it.
  return queue_.empty() && !overflowed_ && !busy_ && due_.empty();
}

void RecoveryEngine::NotifyProgressLocked() {
  for (const std::function<bool()>* ready : waiters_) {
    if (ready == nullptr || (*ready)()) {
      progress_cv_.SignalAll();
      return;
    }
  }
}

void RecoveryEngine::WaitLocked(const std::function<bool()>& ready,
                                bool worker_checks,
                                std::chrono::nanoseconds timeout) {
  const std::function<bool()>* entry = worker_checks ? &ready : nullptr;
  waiters_.push_back(entry);
  const absl::Time deadline = absl::Now() + absl::FromChrono(timeout);
  while (!ready()) {
    if (progress_cv_.WaitWithDeadline(&mu_, deadline)) break;
  }
  // Any entry equal to ours will do: equal entries are interchangeable.
  waiters_.erase(std::find(waiters_.begin(), waiters_.end(), entry));
}

bool RecoveryEngine::WaitUntilQuiescent(std::chrono::nanoseconds timeout) {
  absl::MutexLock lock(&mu_);
  WaitLocked(
      [this] {
        mu_.AssertHeld();
        return stop_ || QuiescentLocked();
      },
      /*worker_checks=*/true, timeout);
  return QuiescentLocked() && !stop_;
}

bool RecoveryEngine::WaitFor(const std::function<bool(const Stats&)>& predicate,
                             std::chrono::nanoseconds timeout) {
  absl::MutexLock lock(&mu_);
  // Not checked by the worker, which would copy every VM's status for it
  // after each item: woken after each item, the waiter checks itself.
  WaitLocked(
      [&] {
        mu_.AssertHeld();
        return stop_ || predicate(StatsLocked());
      },
      /*worker_checks=*/false, timeout);
  return predicate(StatsLocked());
}

bool RecoveryEngine::WaitForCounters(
    const std::function<bool(const Stats&)>& predicate,
    std::chrono::nanoseconds timeout) {
  absl::MutexLock lock(&mu_);
  WaitLocked(
      [&] {
        mu_.AssertHeld();
        return stop_ || predicate(counters_);
      },
      /*worker_checks=*/true, timeout);
  return predicate(counters_);
}

RecoveryEngine::Stats RecoveryEngine::counters() const {
  absl::MutexLock lock(&mu_);
  return counters_;
}

std::optional<VmStatus> RecoveryEngine::vm_status(uint32_t vm_id) const {
  absl::MutexLock lock(&mu_);
  auto it = vms_.find(vm_id);
  if (it == vms_.end()) return std::nullopt;
  return it->second.status;
}

RecoveryEngine::Stats RecoveryEngine::StatsLocked() const {
  Stats s = counters_;
  s.latency = latency_.Summarize();
  for (const auto& [id, vm] : vms_) s.vms.emplace(id, vm.status);
  return s;
}

RecoveryEngine::Stats RecoveryEngine::stats() const {
  absl::MutexLock lock(&mu_);
  return StatsLocked();
}

std::vector<RecoveryEngine::Report> RecoveryEngine::reports() const {
  absl::MutexLock lock(&mu_);
  return {reports_.begin(), reports_.end()};
}

std::string RecoveryEngine::Stats::ToString() const {
  std::string out;
  auto add = [&out](const char* name, uint64_t value) {
    if (value == 0) return;
    absl::StrAppend(&out, out.empty() ? "" : " ", name, "=", value);
  };
  add("vm_errors", vm_errors);
  add("coalesced", coalesced);
  add("restarts", restarts_tried);
  add("ok", restarts_succeeded);
  add("failed", restarts_failed);
  add("benign", restarts_benign);
  add("eagain", eagain_tries);
  add("losses", losses);
  add("reconciles", reconciles);
  add("removals", removals);
  add("reported", reported);
  add("given_up", given_up);
  add("ignored", ignored);
  add("dropped", dropped);
  absl::StrAppend(&out, out.empty() ? "" : " ", "latency: ",
                  latency.count == 0
                      ? std::string("n=0")
                      : absl::StrCat("n=", latency.count,
                                     " p50=", FormatNanos(latency.p50_ns),
                                     " p99=", FormatNanos(latency.p99_ns),
                                     " max=", FormatNanos(latency.max_ns)));
  return out;
}

}  // namespace xehil
