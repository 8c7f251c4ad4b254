// ObservingPolicy: wraps the recovery policy under test and forwards every
// decision to it unchanged, recording each VM_RESTART the engine makes
// (AfterRestart) on the run's timeline and progress output.
//
//   auto policy = std::make_unique<ObservingPolicy>(state, "app", inner);
//   RecoveryEngine::Start(xe, std::move(policy));
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_OBSERVING_POLICY_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_OBSERVING_POLICY_H_

#include <memory>
#include <string>

#include "core/recovery/recovery_policy.h"
#include "core/scenario/internal/run_state.h"

namespace xehil::scenario_internal {

class ObservingPolicy : public RecoveryPolicy {
 public:
  ObservingPolicy(RunState& state, std::string file,
                  std::unique_ptr<RecoveryPolicy> inner);

  Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                     const VmStatus& vm) override;
  absl::Status BeforeRestart(RecoveryContext& ctx, const VmStatus& vm) override;
  int MaxRestartTries(const VmStatus& vm) override;
  void AfterRestart(RecoveryContext& ctx, const VmStatus& vm,
                    const absl::Status& result) override;
  Decision OnRestartFailed(RecoveryContext& ctx, const VmStatus& vm,
                           const absl::Status& status) override;
  LossAction OnLost(RecoveryContext& ctx) override;
  RemovalAction OnRemoved(RecoveryContext& ctx,
                          const Removed& removed) override;

 private:
  RunState& state_;
  const std::string file_;
  const std::unique_ptr<RecoveryPolicy> inner_;
};

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_OBSERVING_POLICY_H_
