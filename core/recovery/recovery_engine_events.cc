// RecoveryEngine, continued: what the worker does with each event and how a
// restart runs (see recovery_engine.h for the rules).
#include <cerrno>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "core/recovery/recovery_engine.h"
#include "core/recovery/recovery_engine_internal.h"

namespace xehil {

using recovery_internal::IsPending;
using recovery_internal::IsSettled;

void RecoveryEngine::HandleEvent(const Queued& queued) {
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, VmError>) {
          HandleVmError(e, queued.arrival_ns);
        } else if constexpr (std::is_same_v<T, Lost>) {
          {
            absl::MutexLock lock(&mu_);
            ++counters_.losses;
          }
          HandleLost();
        } else if constexpr (std::is_same_v<T, Removed>) {
          HandleRemoved(e);
        } else {
          absl::MutexLock lock(&mu_);
          ++counters_.unknowns;
        }
      },
      queued.event);
}

void RecoveryEngine::HandleVmError(const VmError& error, uint64_t arrival_ns) {
  // Records without a timestamp are placed at their arrival instead.
  const uint64_t ts = error.timestamp_ns != 0 ? error.timestamp_ns : arrival_ns;
  VmStatus snapshot;
  {
    absl::MutexLock lock(&mu_);
    ++counters_.vm_errors;
    Vm& vm = vms_[error.vm_id];
    vm.status.vm_id = error.vm_id;
    ++vm.status.errors;
    if (removed_) {
      ++counters_.ignored;
      if (vm.status.state != VmState::kGone) {
        SettleLocked(vm, VmState::kGone, "the DRM file was removed");
      }
      return;
    }
    const VmState state = vm.status.state;
    const bool duplicate =
        IsPending(state) || state == VmState::kRestarting ||
        // Strictly older: on a coarse clock the failure of the restart's
        // own rebind carries the restart's start time, and coalescing it
        // would leave the VM paused for good.
        (state == VmState::kHealthy && ts < vm.restart_start_ns) ||
        (IsSettled(state) && ts <= vm.settled_ns);
    if (duplicate) {
      ++vm.status.coalesced;
      ++counters_.coalesced;
      if (IsPending(state) && vm.trigger_ns == 0) vm.trigger_ns = ts;
      return;
    }
    // A restart that began before this error and ended recently did not take.
    const bool same_episode =
        state == VmState::kHealthy && vm.status.consecutive_failures > 0 &&
        vm.restart_start_ns != 0 &&
        ts <= vm.restart_end_ns +
                  static_cast<uint64_t>(options_.quiet_period.count());
    vm.status.consecutive_failures =
        same_episode ? vm.status.consecutive_failures + 1 : 1;
    vm.status.last_error = error.error;
    vm.status.reason.clear();
    vm.status.reconcile = false;
    vm.trigger_ns = ts;
    snapshot = vm.status;
  }
  const Decision decision = policy_->OnVmError(*context_, error, snapshot);
  absl::MutexLock lock(&mu_);
  Vm& vm = vms_[error.vm_id];
  switch (decision.action) {
    case Decision::Action::kRestart:
      ScheduleLocked(vm, decision.delay);
      break;
    case Decision::Action::kIgnore:
      ++counters_.ignored;
      break;
    case Decision::Action::kReport:
      SettleLocked(vm, VmState::kFailed, decision.reason);
      ReportLocked(error.vm_id, error.error, decision.reason);
      break;
    case Decision::Action::kGiveUp:
      SettleLocked(vm, VmState::kGivenUp, decision.reason);
      ++counters_.given_up;
      ReportLocked(error.vm_id, error.error,
                   absl::StrCat("gave up: ", decision.reason));
      break;
  }
}

void RecoveryEngine::HandleLost() {
  {
    absl::MutexLock lock(&mu_);
    if (removed_) return;
  }
  if (policy_->OnLost(*context_) != LossAction::kReconcile) return;
  // Every restartable VM that is not already on its way to a restart gets
  // one now; VM_RESTART answers -EALREADY for those that were fine.
  const std::vector<uint32_t> ids = device_.RestartableVms();
  absl::MutexLock lock(&mu_);
  ++counters_.reconciles;
  for (uint32_t id : ids) {
    Vm& vm = vms_[id];
    vm.status.vm_id = id;
    if (IsPending(vm.status.state) || IsSettled(vm.status.state)) continue;
    vm.status.reconcile = true;
    vm.trigger_ns = 0;  // no record to measure latency from
    ScheduleLocked(vm, std::chrono::nanoseconds(0));
  }
}

void RecoveryEngine::HandleRemoved(const Removed& removed) {
  {
    absl::MutexLock lock(&mu_);
    ++counters_.removals;
  }
  if (policy_->OnRemoved(*context_, removed) != RemovalAction::kStopAll) return;
  absl::MutexLock lock(&mu_);
  removed_ = true;
  for (auto& [id, vm] : vms_) {
    if (vm.status.state != VmState::kGone) {
      SettleLocked(vm, VmState::kGone, "the DRM file was removed");
    }
  }
}

void RecoveryEngine::RunRestart(uint32_t vm_id) {
  VmStatus snapshot;
  uint64_t trigger_ns;
  {
    absl::MutexLock lock(&mu_);
    Vm& vm = vms_[vm_id];
    vm.status.state = VmState::kRestarting;
    snapshot = vm.status;
    trigger_ns = vm.trigger_ns;
  }
  const absl::Status hook = policy_->BeforeRestart(*context_, snapshot);
  if (!hook.ok()) {
    {
      absl::MutexLock lock(&mu_);
      ++counters_.hook_failures;
    }
    FailRestart(vm_id, hook);
    return;
  }
  if (context_->stopping()) {
    // Stop() came while the hook ran: abandon rather than restart late.
    absl::MutexLock lock(&mu_);
    Vm& vm = vms_[vm_id];
    vm.status.state = VmState::kPending;
    due_.emplace(vm.due, vm_id);
    return;
  }
  const int max_tries = policy_->MaxRestartTries(snapshot);
  const uint64_t start_ns = NowNs();
  {
    absl::MutexLock lock(&mu_);
    Vm& vm = vms_[vm_id];
    vm.restart_start_ns = start_ns;
    ++vm.status.restarts;
    ++counters_.restarts_tried;
    snapshot = vm.status;
  }
  if (trigger_ns != 0) {
    latency_.Record(static_cast<int64_t>(start_ns - trigger_ns));
  }
  const absl::StatusOr<RestartOutcome> outcome =
      device_.RestartVm(vm_id, trigger_ns, max_tries);
  const uint64_t end_ns = NowNs();
  const int err = outcome.ok() ? 0 : StatusErrno(outcome.status());
  {
    absl::MutexLock lock(&mu_);
    Vm& vm = vms_[vm_id];
    if (outcome.ok()) {
      ++counters_.restarts_succeeded;
      counters_.eagain_tries += static_cast<uint64_t>(outcome->tries - 1);
      if (vm.status.reconcile) ++counters_.reconcile_restarts;
      ++vm.status.restarts_succeeded;
      vm.status.state = VmState::kHealthy;
      vm.restart_end_ns = end_ns;
    } else if (err == -ENOENT) {
      ++counters_.restarts_benign;
      ++counters_.benign_gone;
      SettleLocked(vm, VmState::kGone, "VM_RESTART: -ENOENT, the VM is gone");
    } else if (err == -EALREADY) {
      ++counters_.restarts_benign;
      ++counters_.benign_not_paused;
      vm.status.state = VmState::kHealthy;
      vm.status.consecutive_failures = 0;
    } else {
      ++counters_.restarts_failed;
      if (err == -EAGAIN) {
        counters_.eagain_tries += static_cast<uint64_t>(max_tries);
      }
    }
    vm.status.reconcile = false;
    snapshot = vm.status;
  }
  const absl::Status& result = outcome.status();
  policy_->AfterRestart(*context_, snapshot, result);
  if (!outcome.ok() && err != -ENOENT && err != -EALREADY) {
    FailRestart(vm_id, result);
  }
}

void RecoveryEngine::FailRestart(uint32_t vm_id, const absl::Status& status) {
  VmStatus snapshot;
  {
    absl::MutexLock lock(&mu_);
    Vm& vm = vms_[vm_id];
    ++vm.status.consecutive_failures;  // stays kRestarting while deciding
    snapshot = vm.status;
  }
  const Decision decision =
      policy_->OnRestartFailed(*context_, snapshot, status);
  absl::MutexLock lock(&mu_);
  Vm& vm = vms_[vm_id];
  if (decision.action == Decision::Action::kRestart) {
    ScheduleLocked(vm, decision.delay);
    return;
  }
  const std::string reason =
      decision.reason.empty() ? std::string(status.message()) : decision.reason;
  SettleLocked(vm, VmState::kGivenUp, reason);
  ++counters_.given_up;
  if (decision.action != Decision::Action::kIgnore) {
    ReportLocked(vm_id, StatusErrno(status), absl::StrCat("gave up: ", reason));
  }
}

}  // namespace xehil
