#include "examples/shrink_policy/shrinking_policy.h"

#include <cerrno>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include "core/base/errno_status.h"
#include "core/device/xe_device.h"

namespace xehil::examples {

ShrinkingPolicy::ShrinkingPolicy(const DefaultRecoveryPolicy::Options& options,
                                 const ShrinkOptions& shrink,
                                 std::shared_ptr<ShrinkStats> stats)
    : DefaultRecoveryPolicy(options),
      shrink_(shrink),
      stats_(std::move(stats)) {}

absl::Status ShrinkingPolicy::BeforeRestart(RecoveryContext& ctx,
                                            const VmStatus& vm) {
  // Only a VM that could not place its BOs gains anything from shrinking.
  if (!IsRestartable(vm.last_error)) return absl::OkStatus();
  XeDevice& device = ctx.device();
  const std::vector<Binding> bindings = device.BindingsOf(vm.vm_id);
  if (bindings.size() <= shrink_.keep_bindings) return absl::OkStatus();

  std::set<uint32_t> kept_bos;
  for (size_t i = 0; i < shrink_.keep_bindings; ++i) {
    kept_bos.insert(bindings[i].bo);
  }
  std::set<uint32_t> given_up;
  for (size_t i = shrink_.keep_bindings; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    absl::Status status = device.Unbind(vm.vm_id, b.addr, b.range);
    if (StatusErrno(status) == -ENOENT) return absl::OkStatus();  // VM gone
    if (!status.ok()) return status;
    if (stats_ != nullptr) ++stats_->unbound;
    if (kept_bos.count(b.bo) == 0) given_up.insert(b.bo);
  }
  if (stats_ != nullptr) ++stats_->shrinks;
  if (!shrink_.close_bos) return absl::OkStatus();
  for (uint32_t bo : given_up) {
    XEHIL_RETURN_IF_ERROR(device.CloseBo(bo));
    if (stats_ != nullptr) ++stats_->bos_closed;
  }
  return absl::OkStatus();
}

DefaultRecoveryPolicy::Options OptionsFromConfig(const RecoveryConfig& config) {
  DefaultRecoveryPolicy::Options options;
  if (config.initial_backoff_us() != 0) {
    options.initial_backoff =
        std::chrono::microseconds(config.initial_backoff_us());
  }
  if (config.max_backoff_ms() != 0) {
    options.max_backoff = std::chrono::milliseconds(config.max_backoff_ms());
  }
  if (config.max_restart_tries() != 0) {
    options.max_restart_tries = static_cast<int>(config.max_restart_tries());
  }
  options.max_consecutive_failures =
      static_cast<int>(config.max_consecutive_failures());
  return options;
}

PolicyFactory RestartOnlyPolicyFactory() {
  return [](const RecoveryConfig& config) -> std::unique_ptr<RecoveryPolicy> {
    return std::make_unique<RestartOnlyPolicy>(OptionsFromConfig(config));
  };
}

PolicyFactory ShrinkingPolicyFactory(ShrinkingPolicy::ShrinkOptions shrink,
                                     std::shared_ptr<ShrinkStats> stats) {
  return [shrink, stats](
             const RecoveryConfig& config) -> std::unique_ptr<RecoveryPolicy> {
    return std::make_unique<ShrinkingPolicy>(OptionsFromConfig(config), shrink,
                                             stats);
  };
}

}  // namespace xehil::examples
