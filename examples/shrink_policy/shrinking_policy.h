// ShrinkingPolicy: a worked example of a custom RecoveryPolicy. When a VM
// paused because its rebind could not place its BOs (-ENOSPC, -ENOMEM),
// restarting alone only helps once the memory comes back; if the pressure
// is held, every restart fails again. This policy shrinks the VM's working
// set right before each such restart — it unbinds every binding but the
// first `keep_bindings` (XeDevice::BindingsOf, lowest addresses first) and
// closes the BOs it gave up — so that what is left fits and the VM runs
// again, degraded but alive. Everything else is DefaultRecoveryPolicy.
//
//   RunOptions options;
//   options.policy_factory = ShrinkingPolicyFactory();   // or with options
//   options.policy_name = "shrinking";
//   absl::StatusOr<Report> report = RunScenario(scenario, env, options);
//
// RestartOnlyPolicyFactory() is the comparison point: plain restarts with
// the scenario's backoff settings (DefaultRecoveryPolicy).
//
// Threading: the engine calls a policy from its one worker thread only; the
// optional ShrinkStats are atomics so a test may read them at any time.
#ifndef XEHIL_EXAMPLES_SHRINK_POLICY_SHRINKING_POLICY_H_
#define XEHIL_EXAMPLES_SHRINK_POLICY_SHRINKING_POLICY_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "core/recovery/default_policy.h"
#include "core/recovery/recovery_policy.h"
#include "proto/scenario.pb.h"

namespace xehil::examples {

// A DefaultRecoveryPolicy that is nothing more: restart with backoff.
using RestartOnlyPolicy = DefaultRecoveryPolicy;

// What the shrinking policy did, shared with whoever made it (the policy
// lives inside the recovery engine).
struct ShrinkStats {
  std::atomic<uint64_t> shrinks{0};  // BeforeRestart calls that unbound
  std::atomic<uint64_t> unbound{0};  // bindings removed
  std::atomic<uint64_t> bos_closed{0};
};

class ShrinkingPolicy : public DefaultRecoveryPolicy {
 public:
  struct ShrinkOptions {
    // Bindings kept, lowest GPU addresses first.
    size_t keep_bindings = 1;
    // Also GEM_CLOSE the BOs of the removed bindings (unless still bound
    // elsewhere in the VM), so their memory is freed at once. Without it
    // an unbound BO stays resident if it was, and only stops being placed.
    bool close_bos = true;
  };

  ShrinkingPolicy(const DefaultRecoveryPolicy::Options& options,
                  const ShrinkOptions& shrink,
                  std::shared_ptr<ShrinkStats> stats = nullptr);

  // Shrinks VMs that last failed with -ENOSPC or -ENOMEM; others (e.g. a
  // reconcile of a VM that never failed) are restarted as they are. An
  // Unbind that finds the VM gone (-ENOENT) lets the restart go ahead (it
  // will say -ENOENT, which the engine treats as benign); any other error
  // vetoes this restart and goes to OnRestartFailed.
  absl::Status BeforeRestart(RecoveryContext& ctx, const VmStatus& vm) override;

 private:
  const ShrinkOptions shrink_;
  const std::shared_ptr<ShrinkStats> stats_;
};

// The scenario's RecoveryConfig as DefaultRecoveryPolicy options (zero
// fields keep the defaults), so both policies honour the scenario's backoff.
DefaultRecoveryPolicy::Options OptionsFromConfig(const RecoveryConfig& config);

// Factories for RunOptions::policy_factory / RunScenarioFileOnSim (the same
// type as xehil::PolicyFactory in core/scenario/runner.h).
using PolicyFactory =
    std::function<std::unique_ptr<RecoveryPolicy>(const RecoveryConfig&)>;
PolicyFactory RestartOnlyPolicyFactory();
PolicyFactory ShrinkingPolicyFactory(
    ShrinkingPolicy::ShrinkOptions shrink = {},
    std::shared_ptr<ShrinkStats> stats = nullptr);

}  // namespace xehil::examples

#endif  // XEHIL_EXAMPLES_SHRINK_POLICY_SHRINKING_POLICY_H_
