#include "core/scenario/internal/vm_view.h"

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"

namespace xehil::scenario_internal {
namespace {

std::string WithError(const char* what, int error) {
  return error == 0 ? what : absl::StrCat(what, " (-", ErrnoName(error), ")");
}

bool Includes(const std::vector<size_t>& files, size_t index) {
  if (files.empty()) return true;
  for (size_t f : files) {
    if (f == index) return true;
  }
  return false;
}

}  // namespace

void SettleDevice(RunState& state) {
  // A failure to settle shows up as a check that does not hold; the
  // observer's own errors are reported by ViewVm.
  if (state.env.observer != nullptr) {
    state.env.observer->WaitIdle().IgnoreError();
  } else if (state.env.faults != nullptr) {
    state.env.faults->WaitIdle().IgnoreError();
  }
}

VmView ViewVm(RunState& state, const VmEntry& vm) {
  VmView view;
  const FileEntry& file = *state.files[vm.file];
  if (file.engine != nullptr) view.engine = file.engine->vm_status(vm.vm_id);
  if (vm.destroyed || file.closed) {
    view.outcome = VM_OUTCOME_GONE;
    view.text = vm.destroyed ? "gone (destroyed)" : "gone (file closed)";
    return view;
  }
  if (state.env.observer != nullptr) {
    absl::StatusOr<ObservedVm> seen =
        state.env.observer->GetVm(file.client_id, vm.vm_id);
    if (absl::IsNotFound(seen.status())) {
      view.outcome = VM_OUTCOME_GONE;
      view.text = "gone";
    } else if (!seen.ok()) {
      // Not a VM outcome: the check cannot hold while the device is unseen.
      view.outcome = VM_OUTCOME_UNSPECIFIED;
      view.text = absl::StrCat("unknown (", seen.status().ToString(), ")");
    } else if (seen->state == ObservedVm::State::kHealthy) {
      view.outcome = VM_OUTCOME_HEALTHY;
      view.text = "healthy";
    } else if (seen->state == ObservedVm::State::kPaused) {
      view.outcome = VM_OUTCOME_PAUSED;
      view.text = WithError("paused", seen->error);
    } else {
      view.outcome = VM_OUTCOME_BANNED;
      view.text = WithError("banned", seen->error);
    }
    return view;
  }
  // No observer: only the engine knows, and only about VMs it has seen fail.
  if (!view.engine.has_value()) {
    view.outcome = VM_OUTCOME_HEALTHY;
    view.text = file.engine != nullptr ? "healthy" : "healthy (unobserved)";
    return view;
  }
  const VmStatus& s = *view.engine;
  switch (s.state) {
    case VmState::kHealthy:
      view.outcome = VM_OUTCOME_HEALTHY;
      view.text = "healthy";
      break;
    case VmState::kPending:
    case VmState::kBackingOff:
    case VmState::kRestarting:
      view.outcome = VM_OUTCOME_PAUSED;
      view.text = WithError("paused", s.last_error);
      break;
    case VmState::kFailed:
    case VmState::kGivenUp:
      view.outcome = VM_OUTCOME_REPORTED;
      view.text = absl::StrCat(VmStateName(s.state), ": ", s.reason);
      break;
    case VmState::kGone:
      view.outcome = VM_OUTCOME_GONE;
      view.text = "gone";
      break;
  }
  return view;
}

bool EnginesQuiescent(RunState& state, const std::vector<size_t>& files) {
  for (size_t i = 0; i < state.files.size(); ++i) {
    const FileEntry& file = *state.files[i];
    if (file.engine == nullptr || !Includes(files, i)) continue;
    if (!file.engine->WaitUntilQuiescent(std::chrono::nanoseconds(0))) {
      return false;
    }
  }
  return true;
}

std::vector<const VmEntry*> LiveVms(const RunState& state,
                                    const std::vector<size_t>& files,
                                    bool restartable_only) {
  std::vector<const VmEntry*> out;
  for (const VmEntry& vm : state.vms) {
    const FileEntry& file = *state.files[vm.file];
    if (vm.destroyed || file.closed || !Includes(files, vm.file)) continue;
    if (restartable_only && (file.engine == nullptr ||
                             !(vm.flags & DRM_XE_VM_CREATE_FLAG_RESTARTABLE))) {
      continue;
    }
    out.push_back(&vm);
  }
  return out;
}

bool AllHealthy(RunState& state, const std::vector<size_t>& files,
                bool restartable_only, std::string* summary,
                std::string* detail) {
  SettleDevice(state);
  const std::vector<const VmEntry*> vms =
      LiveVms(state, files, restartable_only);
  std::vector<std::string> unhealthy;
  for (const VmEntry* vm : vms) {
    VmView view = ViewVm(state, *vm);
    if (view.outcome != VM_OUTCOME_HEALTHY) {
      unhealthy.push_back(absl::StrCat(vm->name, " ", view.text));
    }
  }
  std::vector<std::string> busy;
  for (size_t i = 0; i < state.files.size(); ++i) {
    const FileEntry& file = *state.files[i];
    if (file.engine == nullptr || !Includes(files, i)) continue;
    if (!file.engine->WaitUntilQuiescent(std::chrono::nanoseconds(0))) {
      busy.push_back(absl::StrCat("the engine of '", file.name, "' is busy"));
    }
  }
  *summary = absl::StrCat(vms.size() - unhealthy.size(), " of ", vms.size(),
                          " VMs healthy");
  *detail = absl::StrCat(absl::StrJoin(unhealthy, ", "),
                         unhealthy.empty() || busy.empty() ? "" : "; ",
                         absl::StrJoin(busy, ", "));
  return unhealthy.empty() && busy.empty();
}

}  // namespace xehil::scenario_internal
