#include "core/recovery/recovery_policy.h"

namespace xehil {

absl::string_view VmStateName(VmState state) {
  switch (state) {
    case VmState::kHealthy:
      return "healthy";
    case VmState::kPending:
      return "pending";
    case VmState::kBackingOff:
      return "backing-off";
    case VmState::kRestarting:
      return "restarting";
    case VmState::kFailed:
      return "failed";
    case VmState::kGivenUp:
      return "given-up";
    case VmState::kGone:
      return "gone";
  }
  return "unknown";
}

}  // namespace xehil
