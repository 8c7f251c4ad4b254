#include "core/scenario/internal/observing_policy.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil::scenario_internal {

ObservingPolicy::ObservingPolicy(RunState& state, std::string file,
                                 std::unique_ptr<RecoveryPolicy> inner)
    : state_(state), file_(std::move(file)), inner_(std::move(inner)) {}

Decision ObservingPolicy::OnVmError(RecoveryContext& ctx, const VmError& error,
                                    const VmStatus& vm) {
  return inner_->OnVmError(ctx, error, vm);
}

absl::Status ObservingPolicy::BeforeRestart(RecoveryContext& ctx,
                                            const VmStatus& vm) {
  return inner_->BeforeRestart(ctx, vm);
}

int ObservingPolicy::MaxRestartTries(const VmStatus& vm) {
  return inner_->MaxRestartTries(vm);
}

void ObservingPolicy::AfterRestart(RecoveryContext& ctx, const VmStatus& vm,
                                   const absl::Status& result) {
  const std::string detail =
      result.ok() ? absl::StrCat("VM_RESTART vm ", vm.vm_id, ": ok")
                  : std::string(result.message());
  TimelineEntry entry;
  entry.set_t_us(state_.NowUs());
  entry.set_file(file_);
  entry.set_kind("restart");
  entry.set_detail(detail);
  entry.set_vm_id(vm.vm_id);
  entry.set_error(StatusErrno(result));
  state_.AddTimeline(std::move(entry));
  state_.Emit(Progress::Kind::kRestart,
              absl::StrCat("restart '", file_, "': ", detail));
  inner_->AfterRestart(ctx, vm, result);
}

Decision ObservingPolicy::OnRestartFailed(RecoveryContext& ctx,
                                          const VmStatus& vm,
                                          const absl::Status& status) {
  return inner_->OnRestartFailed(ctx, vm, status);
}

LossAction ObservingPolicy::OnLost(RecoveryContext& ctx) {
  return inner_->OnLost(ctx);
}

RemovalAction ObservingPolicy::OnRemoved(RecoveryContext& ctx,
                                         const Removed& removed) {
  return inner_->OnRemoved(ctx, removed);
}

}  // namespace xehil::scenario_internal
