// Private to the recovery_engine target: helpers its two .cc files share.
#ifndef XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_INTERNAL_H_
#define XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_INTERNAL_H_

#include <time.h>

#include <cstdint>

#include "core/base/monotonic_clock.h"
#include "core/recovery/recovery_policy.h"

namespace xehil::recovery_internal {

// A restart is scheduled (now or after a backoff).
inline bool IsPending(VmState state) {
  return state == VmState::kPending || state == VmState::kBackingOff;
}

// The engine no longer restarts the VM on its own.
inline bool IsSettled(VmState state) {
  return state == VmState::kFailed || state == VmState::kGivenUp ||
         state == VmState::kGone;
}

}  // namespace xehil::recovery_internal

#endif  // XEHIL_CORE_RECOVERY_RECOVERY_ENGINE_INTERNAL_H_
