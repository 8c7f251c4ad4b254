// What the run knows about a VM right now: with a VM observer the device's
// own state (after its rebind worker went idle, so a just-scripted fault has
// landed), without one the recovery engine's view. Used by wait_healthy
// steps and the all_healthy / vm_state expectations.
//
//   VmView view = ViewVm(state, state.vms[i]);
//   // view.outcome == VM_OUTCOME_PAUSED, view.text == "paused (-ENOSPC)"
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_VM_VIEW_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_VM_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "core/recovery/recovery_policy.h"
#include "core/scenario/internal/run_state.h"

namespace xehil::scenario_internal {

struct VmView {
  VmOutcome outcome = VM_OUTCOME_HEALTHY;
  std::string text;  // "healthy", "paused (-ENOSPC)", "gone (destroyed)", ...
  // The engine's status for the VM, if its file is watched and the engine
  // has seen it.
  std::optional<VmStatus> engine;
};

// Waits for the device's rebind worker to go idle, where the environment can
// tell (an observer or a fault injector); a no-op elsewhere.
void SettleDevice(RunState& state);

// The VM as it stands; call SettleDevice first.
VmView ViewVm(RunState& state, const VmEntry& vm);

// True when the engine of every watched file among `files` (all files if
// empty) has nothing queued, pending or running.
bool EnginesQuiescent(RunState& state, const std::vector<size_t>& files);

// The VMs of `files` (all if empty) that still exist: not destroyed, file
// not closed; only restartable ones of watched files if `restartable_only`.
std::vector<const VmEntry*> LiveVms(const RunState& state,
                                    const std::vector<size_t>& files,
                                    bool restartable_only);

// Healthy VMs and engines quiescent. `*summary` counts them ("2 of 3 VMs
// healthy"), `*detail` says what is not ("vm1 paused (-ENOSPC)").
bool AllHealthy(RunState& state, const std::vector<size_t>& files,
                bool restartable_only, std::string* summary,
                std::string* detail);

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_VM_VIEW_H_
