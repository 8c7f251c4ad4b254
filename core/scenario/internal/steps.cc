#include "core/scenario/internal/steps.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "core/pressure/pressure_injector.h"
#include "core/scenario/describe.h"
#include "core/scenario/internal/setup.h"
#include "core/scenario/internal/vm_view.h"

namespace xehil::scenario_internal {
namespace {

StepOutcome Done(std::string message) {
  return {StepOutcome::kDone, std::move(message)};
}
StepOutcome Skipped(std::string message) {
  return {StepOutcome::kSkipped, std::move(message)};
}
StepOutcome Failed(std::string message) {
  return {StepOutcome::kFailed, std::move(message)};
}
StepOutcome TimedOut(std::string message) {
  return {StepOutcome::kTimedOut, std::move(message)};
}

StepOutcome InjectPressure(RunState& state, const Pressure& p) {
  if (state.env.pressure == nullptr) {
    state.skipped_pressure.insert(p.label());
    return Skipped(state.env.pressure_missing);
  }
  if (absl::Status ok = state.env.pressure->CheckAvailable(); !ok.ok()) {
    state.skipped_pressure.insert(p.label());
    return Skipped(absl::StrCat("pressure injector '",
                                state.env.pressure->Name(),
                                "' unavailable: ", ok.message()));
  }
  const std::optional<uint16_t> vram = VramInstance(state);
  uint16_t instance = SystemInstance(state);
  if (p.region() == MEMORY_REGION_VRAM ||
      (p.region() == MEMORY_REGION_UNSPECIFIED && vram.has_value())) {
    if (!vram.has_value()) {
      return {StepOutcome::kSkipRun,
              absl::StrCat("VRAM pressure needs VRAM; ",
                           state.env.device_description, " has none")};
    }
    instance = *vram;
  }
  uint64_t bytes = p.bytes();
  if (bytes == 0) {
    absl::StatusOr<std::vector<MemRegion>> regions =
        state.control_xe->QueryMemRegions();
    if (!regions.ok()) return Failed(regions.status().ToString());
    for (const MemRegion& r : *regions) {
      if (r.instance != instance) continue;
      const uint64_t free = r.total_size - std::min(r.total_size, r.used);
      const double fraction = p.fraction_of_total() != 0
                                  ? p.fraction_of_total() * r.total_size
                                  : p.fraction_of_free() * free;
      const uint64_t page = std::max<uint64_t>(r.min_page_size, 1);
      bytes = static_cast<uint64_t>(std::floor(fraction)) / page * page;
      bytes = std::max(bytes, page);
    }
  }
  PressureSpec spec;
  spec.region_instance = instance;
  spec.bytes = bytes;
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      state.env.pressure->Acquire(spec);
  if (!lease.ok()) return Failed(lease.status().ToString());
  state.leases[p.label()] = *std::move(lease);
  SettleDevice(state);  // evictions' rebinds land before the next step
  return Done(absl::StrCat("holding ", DescribeBytes(bytes), " of region ",
                           instance, " (", state.env.pressure->Name(), ")"));
}

StepOutcome ReleasePressure(RunState& state, const std::string& label) {
  if (state.skipped_pressure.erase(label) > 0) {
    return Skipped(
        absl::StrCat("its inject_pressure '", label, "' was skipped"));
  }
  auto it = state.leases.find(label);
  if (it == state.leases.end()) {
    return Failed(absl::StrCat("no pressure held as '", label, "'"));
  }
  absl::Status released = it->second->Release();
  const uint64_t bytes = it->second->bytes();
  state.leases.erase(it);
  if (!released.ok()) return Failed(released.ToString());
  return Done(absl::StrCat("released ", DescribeBytes(bytes)));
}

StepOutcome ScriptFault(RunState& state, const Fault& fault) {
  FaultInjector* device = state.env.faults;
  if (device == nullptr) return Skipped(state.env.faults_missing);
  const VmEntry* vm = nullptr;
  if (!fault.vm().empty()) vm = &state.VmNamed(fault.vm());
  const size_t file_index =
      fault.file().empty() ? vm->file : state.file_by_name.at(fault.file());
  const FileEntry& file = *state.files[file_index];
  if (file.closed) {
    return Failed(absl::StrCat("file '", file.name, "' is closed"));
  }
  const uint64_t fid = file.client_id;
  absl::Status status;
  switch (fault.kind_case()) {
    case Fault::kFailRebinds: {
      const FailRebinds& r = fault.fail_rebinds();
      std::vector<const VmEntry*> targets;
      if (r.all_vms_of_file()) {
        for (const VmEntry* v : LiveVms(state, {file_index}, false)) {
          targets.push_back(v);
        }
      } else {
        targets.push_back(vm);
      }
      for (const VmEntry* v : targets) {
        status.Update(device->FailNextRebinds(fid, v->vm_id, r.count(),
                                              NegativeErrno(r.error())));
      }
      if (!r.trigger()) break;
      for (const VmEntry* v : targets) {
        // With all_vms_of_file only VMs with a rebind worker can be triggered.
        const bool preempt_fence =
            (v->flags & DRM_XE_VM_CREATE_FLAG_LR_MODE) &&
            !(v->flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE);
        if (r.all_vms_of_file() && !preempt_fence) continue;
        status.Update(device->TriggerRebind(fid, v->vm_id));
      }
      break;
    }
    case Fault::kRestartEagain:
      status = device->FailNextRestarts(fid, vm->vm_id, fault.restart_eagain());
      break;
    case Fault::kDropRecords:
      status = device->DropNextRecords(fid, fault.drop_records());
      break;
    case Fault::kTriggerRebind:
      status = device->TriggerRebind(fid, vm->vm_id);
      break;
    case Fault::KIND_NOT_SET:
      break;
  }
  if (!status.ok()) return Failed(status.ToString());
  // The rebinds it queued run now, so the next step sees their outcome.
  SettleDevice(state);
  return Done("scripted");
}

uint64_t TotalRestarts(RunState& state) {
  uint64_t total = 0;
  for (const auto& file : state.files) {
    if (file->engine != nullptr)
      total += file->engine->counters().restarts_tried;
  }
  return total;
}

StepOutcome Wait(RunState& state, const Step& step) {
  const Clock::time_point now = Clock::now();
  switch (step.action_case()) {
    case Step::kWaitMs: {
      const Clock::time_point until =
          now + std::chrono::milliseconds(step.wait_ms());
      state.SleepUntil(Cap(state, until));
      if (until > state.deadline) return TimedOut("the scenario timed out");
      return Done(absl::StrCat("waited ", step.wait_ms(), " ms"));
    }
    case Step::kWaitHealthyMs: {
      const Clock::time_point until =
          now + std::chrono::milliseconds(step.wait_healthy_ms());
      std::string summary, detail;
      const bool healthy = state.WaitUntil(Cap(state, until), [&] {
        return AllHealthy(state, {}, /*restartable_only=*/true, &summary,
                          &detail);
      });
      const std::string seen =
          absl::StrCat(summary, " after ", state.MsSince(now), " ms",
                       detail.empty() ? "" : ": ", detail);
      if (healthy) return Done(seen);
      if (until > state.deadline) return TimedOut(seen);
      return Done(absl::StrCat(seen, " (going on)"));
    }
    case Step::kWaitRestarts: {
      const bool reached = state.WaitUntil(state.deadline, [&] {
        return TotalRestarts(state) >= step.wait_restarts();
      });
      const std::string seen =
          absl::StrCat(TotalRestarts(state), " restarts made");
      if (!reached) return TimedOut(seen);
      return Done(absl::StrCat(seen, " after ", state.MsSince(now), " ms"));
    }
    default:
      return Failed("not a wait");
  }
}

}  // namespace

StepOutcome RunStep(RunState& state, int index) {
  const Step& step = state.scenario.steps(index);
  switch (step.action_case()) {
    case Step::kInjectPressure:
      return InjectPressure(state, step.inject_pressure());
    case Step::kReleasePressure:
      return ReleasePressure(state, step.release_pressure());
    case Step::kFault:
      return ScriptFault(state, step.fault());
    case Step::kDestroyVm: {
      VmEntry& vm = state.VmNamed(step.destroy_vm());
      FileEntry& file = *state.files[vm.file];
      if (file.closed) return Failed(absl::StrCat("its file was closed"));
      absl::Status destroyed = file.xe->DestroyVm(vm.vm_id);
      if (!destroyed.ok()) return Failed(destroyed.ToString());
      vm.destroyed = true;
      return Done(absl::StrCat("destroyed vm ", vm.vm_id));
    }
    case Step::kCloseFile: {
      FileEntry& file = *state.files[state.file_by_name.at(step.close_file())];
      file.backend->Close();
      file.closed = true;
      return Done("closed");
    }
    case Step::kWaitMs:
    case Step::kWaitHealthyMs:
    case Step::kWaitRestarts:
      return Wait(state, step);
    case Step::ACTION_NOT_SET:
      break;
  }
  return Failed("no action");
}

}  // namespace xehil::scenario_internal
