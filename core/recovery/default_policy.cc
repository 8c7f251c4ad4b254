#include "core/recovery/default_policy.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil {

std::chrono::nanoseconds DefaultRecoveryPolicy::Backoff(
    const Options& options, int consecutive_failures) {
  using std::chrono::nanoseconds;
  if (consecutive_failures <= 1) return nanoseconds(0);
  const int64_t cap = std::max<int64_t>(options.max_backoff.count(), 0);
  const double factor =
      options.backoff_factor >= 1 ? options.backoff_factor : 1;
  double delay = static_cast<double>(
      std::max<int64_t>(options.initial_backoff.count(), 0));
  // Multiply step by step so a large n saturates at the cap, never overflows.
  for (int n = 2; n < consecutive_failures && delay < static_cast<double>(cap);
       ++n) {
    delay *= factor;
  }
  if (delay >= static_cast<double>(cap)) return nanoseconds(cap);
  return nanoseconds(static_cast<int64_t>(delay));
}

bool DefaultRecoveryPolicy::IsRestartable(int32_t error) {
  const int e = std::abs(error);
  return e == ENOMEM || e == ENOSPC;
}

Decision DefaultRecoveryPolicy::RestartOrGiveUp(const VmStatus& vm) const {
  if (options_.max_consecutive_failures > 0 &&
      vm.consecutive_failures > options_.max_consecutive_failures) {
    return Decision::GiveUp(
        absl::StrCat(vm.consecutive_failures, " consecutive failures (limit ",
                     options_.max_consecutive_failures, ")"));
  }
  return Decision::Restart(Backoff(options_, vm.consecutive_failures));
}

Decision DefaultRecoveryPolicy::OnVmError(RecoveryContext& /*ctx*/,
                                          const VmError& error,
                                          const VmStatus& vm) {
  if (!IsRestartable(error.error)) {
    return Decision::Report(absl::StrCat("VM_ERR ", DescribeErrno(error.error),
                                         " is not a restartable error"));
  }
  return RestartOrGiveUp(vm);
}

int DefaultRecoveryPolicy::MaxRestartTries(const VmStatus& /*vm*/) {
  return options_.max_restart_tries;
}

Decision DefaultRecoveryPolicy::OnRestartFailed(RecoveryContext& /*ctx*/,
                                                const VmStatus& vm,
                                                const absl::Status& status) {
  if (StatusErrno(status) == -EAGAIN &&
      !options_.give_up_when_eagain_exhausted) {
    return RestartOrGiveUp(vm);
  }
  return Decision::GiveUp(std::string(status.message()));
}

LossAction DefaultRecoveryPolicy::OnLost(RecoveryContext& /*ctx*/) {
  return LossAction::kReconcile;
}

RemovalAction DefaultRecoveryPolicy::OnRemoved(RecoveryContext& /*ctx*/,
                                               const Removed& /*removed*/) {
  return RemovalAction::kStopAll;
}

}  // namespace xehil
