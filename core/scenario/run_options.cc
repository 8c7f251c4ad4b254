#include "core/scenario/run_options.h"

#include <chrono>

#include "core/recovery/default_policy.h"

namespace xehil {

std::unique_ptr<RecoveryPolicy> MakeDefaultPolicy(const RecoveryConfig& c) {
  DefaultRecoveryPolicy::Options o;
  if (c.initial_backoff_us() != 0) {
    o.initial_backoff = std::chrono::microseconds(c.initial_backoff_us());
  }
  if (c.max_backoff_ms() != 0) {
    o.max_backoff = std::chrono::milliseconds(c.max_backoff_ms());
  }
  if (c.max_restart_tries() != 0) {
    o.max_restart_tries = static_cast<int>(c.max_restart_tries());
  }
  o.max_consecutive_failures = static_cast<int>(c.max_consecutive_failures());
  return std::make_unique<DefaultRecoveryPolicy>(o);
}

}  // namespace xehil
