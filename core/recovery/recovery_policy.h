// RecoveryPolicy: the decisions of the recovery engine, as an interface users
// implement in C++ to prove their own recovery logic against scenarios. The
// engine (recovery_engine.h) does the mechanics — queueing, coalescing
// duplicate records, timers, calling VM_RESTART, counting — and asks the
// policy what to do at each decision point:
//
//   OnVmError        a VM_ERR for a VM with no restart pending: restart now or
//                    after a backoff delay, report, ignore, or give up;
//   BeforeRestart    right before every VM_RESTART, with the XeDevice: shrink
//                    the VM's working set (unbind, close BOs), wait, or veto;
//   OnRestartFailed  VM_RESTART (or BeforeRestart) failed: retry or give up;
//   OnLost           records were lost: reconcile every restartable VM or not;
//   OnRemoved        the DRM file went away: stop everything or not.
//
// DefaultRecoveryPolicy (default_policy.h) is the behaviour the engine has
// when no policy is given. A user policy usually derives from it and
// overrides one hook:
//
//   class ShrinkFirst : public DefaultRecoveryPolicy {
//    public:
//     absl::Status BeforeRestart(RecoveryContext& ctx,
//                                const VmStatus& vm) override {
//       return ctx.device().Unbind(vm.vm_id, kScratchAddr, kScratchSize);
//     }
//   };
//   auto engine = RecoveryEngine::Start(dev, std::make_unique<ShrinkFirst>());
//
// Threading: the engine calls its policy from its one worker thread only,
// one call at a time, never while holding its own lock, so a policy needs no
// locking of its own for state it keeps. A policy may block (e.g.
// RecoveryContext::WaitFor); events keep queueing meanwhile and are coalesced
// afterwards. It must not call back into the engine's Stop().
#ifndef XEHIL_CORE_RECOVERY_RECOVERY_POLICY_H_
#define XEHIL_CORE_RECOVERY_RECOVERY_POLICY_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "core/device/xe_device.h"
#include "core/watch/events.h"

namespace xehil {

// Where one VM stands, as the engine tracks it.
enum class VmState {
  kHealthy,     // no error outstanding: never failed, or restarted since
  kPending,     // failed; a restart is due now
  kBackingOff,  // failed again; a restart is due after a backoff delay
  kRestarting,  // BeforeRestart or VM_RESTART running
  kFailed,      // an error the policy does not restart (reported)
  kGivenUp,     // the policy stopped restarting it (reported)
  kGone,        // destroyed (VM_RESTART said -ENOENT) or its file removed
};

// "healthy", "pending", "backing-off", ...
absl::string_view VmStateName(VmState state);

// What the engine knows about one VM. Handed to the policy (a copy) and
// listed in RecoveryEngine::Stats.
struct VmStatus {
  uint32_t vm_id = 0;
  VmState state = VmState::kHealthy;
  // Negative errno of the latest VM_ERR acted on (0: none yet).
  int32_t last_error = 0;
  // VM_ERRs in the current episode, the one being decided included. A
  // VM_ERR timestamped after a restart of this VM began means that restart
  // did not take and adds one; it starts again at 1 once the VM stayed quiet
  // for RecoveryEngine::Options::quiet_period after a restart, and drops to
  // 0 when VM_RESTART finds the VM not paused (-EALREADY).
  int consecutive_failures = 0;
  uint64_t errors = 0;     // VM_ERR records seen for this VM
  uint64_t coalesced = 0;  // of those, folded into a pending or done restart
  uint64_t restarts = 0;   // VM_RESTART attempts (XeDevice::RestartVm calls)
  uint64_t restarts_succeeded = 0;
  bool reconcile = false;  // the pending restart comes from a Lost record
  // Backoff delay of the pending restart (0: due at once).
  std::chrono::nanoseconds delay{0};
  // Why the VM is kFailed / kGivenUp / kGone.
  std::string reason;
};

// The policy's answer to a VM error or a failed restart.
struct Decision {
  enum class Action {
    kRestart,  // restart after `delay` (0: at once)
    kReport,   // don't restart; record it as reported (state kFailed)
    kIgnore,   // don't restart, don't report
    kGiveUp,   // stop restarting this VM; reported (state kGivenUp)
  };
  Action action = Action::kRestart;
  std::chrono::nanoseconds delay{0};
  std::string reason;  // shown in reports

  static Decision Restart(std::chrono::nanoseconds delay = {}) {
    return {Action::kRestart, delay, ""};
  }
  static Decision Report(std::string reason) {
    return {Action::kReport, {}, std::move(reason)};
  }
  static Decision Ignore() { return {Action::kIgnore, {}, ""}; }
  static Decision GiveUp(std::string reason) {
    return {Action::kGiveUp, {}, std::move(reason)};
  }
};

enum class LossAction {
  kReconcile,  // restart every restartable VM not already pending
  kIgnore,
};

enum class RemovalAction {
  kStopAll,  // every VM becomes kGone; later VM_ERRs are only counted
  kIgnore,
};

// What the engine lends a policy during a call. Valid only during that call.
class RecoveryContext {
 public:
  virtual ~RecoveryContext() = default;

  // The device the engine restarts VMs on (thread-safe; may be used freely).
  virtual XeDevice& device() = 0;

  // Waits `duration`, or less if the engine is stopping. Returns false if it
  // is stopping (the policy should then return promptly).
  virtual bool WaitFor(std::chrono::nanoseconds duration) = 0;

  virtual bool stopping() const = 0;
};

class RecoveryPolicy {
 public:
  virtual ~RecoveryPolicy() = default;

  // A VM_ERR for `vm`, which has no restart pending. `vm` already counts this
  // error (consecutive_failures, last_error). Duplicates of an error whose
  // restart is pending, and records older than the VM's last restart, are
  // coalesced by the engine and never reach the policy.
  virtual Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                             const VmStatus& vm) = 0;

  // Runs right before each VM_RESTART of `vm` (error-driven, retry or
  // reconcile). A non-OK status skips this restart and goes to
  // OnRestartFailed with that status.
  virtual absl::Status BeforeRestart(RecoveryContext& ctx, const VmStatus& vm) {
    (void)ctx;
    (void)vm;
    return absl::OkStatus();
  }

  // Bound on VM_RESTART ioctls while the kernel answers -EAGAIN.
  virtual int MaxRestartTries(const VmStatus& vm) {
    (void)vm;
    return XeDevice::kDefaultRestartTries;
  }

  // After each VM_RESTART, whatever it returned (-ENOENT and -EALREADY are
  // benign and handled by the engine; other errors then reach
  // OnRestartFailed). For observation; the default does nothing.
  virtual void AfterRestart(RecoveryContext& ctx, const VmStatus& vm,
                            const absl::Status& result) {
    (void)ctx;
    (void)vm;
    (void)result;
  }

  // VM_RESTART failed (e.g. -EAGAIN beyond MaxRestartTries, -EINVAL) or
  // BeforeRestart vetoed. `vm.consecutive_failures` already counts it.
  // kRestart retries after the delay; kIgnore stops restarting silently;
  // kReport and kGiveUp stop restarting and report (state kGivenUp).
  virtual Decision OnRestartFailed(RecoveryContext& ctx, const VmStatus& vm,
                                   const absl::Status& status) = 0;

  // A loss record: some VM_ERRs may never arrive.
  virtual LossAction OnLost(RecoveryContext& ctx) = 0;

  // A removal record: the DRM file the pipe watched is gone.
  virtual RemovalAction OnRemoved(RecoveryContext& ctx,
                                  const Removed& removed) = 0;
};

}  // namespace xehil

#endif  // XEHIL_CORE_RECOVERY_RECOVERY_POLICY_H_
