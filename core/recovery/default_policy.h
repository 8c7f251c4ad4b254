// DefaultRecoveryPolicy: the engine's behaviour when no policy is given.
//
//  - VM_ERR with -ENOMEM or -ENOSPC (the errnos that pause a RESTARTABLE VM):
//    restart. The first failure of an episode restarts at once; failure n >= 2
//    in a row waits Backoff(n) = min(initial * factor^(n-2), cap), i.e. with
//    the defaults 0, 1, 2, 4, ... 64, 100, 100 ms. Under sustained pressure
//    that is one restart per failure, spaced ever wider up to the cap; once
//    pressure is gone the restart already scheduled succeeds, so recovery
//    takes at most one backoff step (<= cap).
//  - any other errno in a VM_ERR (e.g. -EIO): reported, never restarted.
//  - give up on a VM after max_consecutive_failures in a row (0, the default:
//    never; backoff stays at the cap instead).
//  - VM_RESTART still -EAGAIN after max_restart_tries ioctls: give up
//    (give_up_when_eagain_exhausted, default) or retry after Backoff(n).
//    Other restart errors (-EINVAL: not restartable) and BeforeRestart
//    vetoes: give up.
//  - Lost: reconcile. Removed: stop all.
//
//   DefaultRecoveryPolicy::Options o;
//   o.max_backoff = std::chrono::milliseconds(20);
//   auto engine = RecoveryEngine::Start(
//       dev, std::make_unique<DefaultRecoveryPolicy>(o));
#ifndef XEHIL_CORE_RECOVERY_DEFAULT_POLICY_H_
#define XEHIL_CORE_RECOVERY_DEFAULT_POLICY_H_

#include <chrono>

#include "core/recovery/recovery_policy.h"

namespace xehil {

class DefaultRecoveryPolicy : public RecoveryPolicy {
 public:
  struct Options {
    std::chrono::nanoseconds initial_backoff = std::chrono::milliseconds(1);
    double backoff_factor = 2.0;  // values below 1 count as 1
    std::chrono::nanoseconds max_backoff = std::chrono::milliseconds(100);
    int max_consecutive_failures = 0;  // 0: unbounded
    bool give_up_when_eagain_exhausted = true;
    int max_restart_tries = XeDevice::kDefaultRestartTries;
  };

  DefaultRecoveryPolicy() = default;
  explicit DefaultRecoveryPolicy(const Options& options) : options_(options) {}

  // Delay before the restart for the n-th consecutive failure (see above).
  static std::chrono::nanoseconds Backoff(const Options& options,
                                          int consecutive_failures);

  // True for the errnos a RESTARTABLE VM pauses on: -ENOMEM, -ENOSPC.
  static bool IsRestartable(int32_t error);

  const Options& options() const { return options_; }

  Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                     const VmStatus& vm) override;
  int MaxRestartTries(const VmStatus& vm) override;
  Decision OnRestartFailed(RecoveryContext& ctx, const VmStatus& vm,
                           const absl::Status& status) override;
  LossAction OnLost(RecoveryContext& ctx) override;
  RemovalAction OnRemoved(RecoveryContext& ctx,
                          const Removed& removed) override;

 private:
  // GiveUp if vm has failed too often in a row, else Restart(Backoff).
  Decision RestartOrGiveUp(const VmStatus& vm) const;

  Options options_;
};

}  // namespace xehil

#endif  // XEHIL_CORE_RECOVERY_DEFAULT_POLICY_H_
