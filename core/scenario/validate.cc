#include "core/scenario/validate.h"

#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"
#include "core/scenario/internal/validation.h"

namespace xehil {
namespace scenario_internal {

std::string At(absl::string_view field, int index) {
  return absl::StrCat(field, "[", index, "]");
}

void CheckRange(Problems& p, const std::string& path, const CountRange& r) {
  if (r.has_max() && r.max() < r.min()) {
    p.Add(path, "min ", r.min(), " is greater than max ", r.max());
  }
}

void CheckFile(Problems& p, const std::string& path, const std::string& file,
               const Names& names, bool must_be_watched, bool allow_empty) {
  if (file.empty()) {
    if (!allow_empty) p.Add(path, "a file name is required");
    return;
  }
  if (names.files.count(file) == 0) {
    p.Add(path, "no file named '", file, "'");
  } else if (must_be_watched && names.watched_files.count(file) == 0) {
    p.Add(path, "file '", file, "' has no watch, so nothing observes it");
  }
}

void CheckVm(Problems& p, const std::string& path, const std::string& vm,
             const Names& names) {
  if (vm.empty()) {
    p.Add(path, "a VM name is required");
  } else if (names.vm_file.count(vm) == 0) {
    p.Add(path, "no VM named '", vm, "'");
  }
}

}  // namespace scenario_internal

namespace {

using scenario_internal::At;
using scenario_internal::CheckFile;
using scenario_internal::CheckVm;
using scenario_internal::Names;
using scenario_internal::Problems;

using Limits = ScenarioLimits;

// Where setup places BOs in a VM (core/scenario/internal/setup.cc): from
// 1 MiB, each at the next 2 MiB boundary after the previous one.
constexpr uint64_t kFirstAddress = uint64_t{1} << 20;
constexpr uint64_t kAddressAlign = uint64_t{2} << 20;

// The BOs of one Vm entry: each size bounded, and together in the VM's
// address space (so neither page rounding nor address steps can wrap).
void CheckBos(Problems& p, const std::string& vpath, const Vm& vm) {
  uint64_t end = kFirstAddress;  // stays <= 2^49: each step adds <= 2^48+2^21
  bool oversize = false;
  for (int b = 0; b < vm.bos_size(); ++b) {
    const uint64_t size = vm.bos(b).size_bytes();
    const std::string path =
        absl::StrCat(vpath, ".", At("bos", b), ".size_bytes");
    if (size == 0) {
      p.Add(path, "must be above 0");
    } else if (size > Limits::kMaxBytes) {
      p.Add(path, size, " is above ", Limits::kMaxBytes,
            " (2^48, the GPU address space)");
      oversize = true;
    } else if (end <= Limits::kMaxBytes) {
      end = (end + size + kAddressAlign - 1) / kAddressAlign * kAddressAlign;
    }
  }
  if (!oversize && end > Limits::kMaxBytes) {
    p.Add(vpath + ".bos", "together need more than the ", Limits::kMaxBytes,
          " bytes of the VM's GPU address space");
  }
}

// The totals over every file, VM entry and count.
void CheckTotals(Problems& p, const Scenario& s) {
  uint64_t vms = 0, bos = 0, queues = 0;
  for (const File& file : s.setup().files()) {
    for (const Vm& vm : file.vms()) {
      const uint64_t n = vm.count() == 0 ? 1 : vm.count();
      vms += n;
      bos += n * static_cast<uint64_t>(vm.bos_size());
      queues += n * static_cast<uint64_t>(vm.exec_queues_size());
    }
  }
  const uint64_t files = static_cast<uint64_t>(s.setup().files_size());
  for (auto [what, value, limit] :
       {std::tuple<const char*, uint64_t, uint64_t>{"files", files,
                                                    Limits::kMaxFiles},
        {"VMs", vms, Limits::kMaxVms},
        {"BOs", bos, Limits::kMaxBos},
        {"exec queues", queues, Limits::kMaxExecQueues}}) {
    if (value > limit) {
      p.Add("setup", value, " ", what, " in all is above the limit of ", limit);
    }
  }
}

void CheckRecovery(Problems& p, const RecoveryConfig& r) {
  if (r.max_restart_tries() > Limits::kMaxRestartTries) {
    p.Add("recovery.max_restart_tries", r.max_restart_tries(), " is above ",
          Limits::kMaxRestartTries);
  }
  if (r.max_consecutive_failures() > Limits::kMaxConsecutiveFailures) {
    p.Add("recovery.max_consecutive_failures", r.max_consecutive_failures(),
          " is above ", Limits::kMaxConsecutiveFailures);
  }
}

void CheckSetup(Problems& p, const Scenario& s, Names& names) {
  CheckTotals(p, s);
  for (int f = 0; f < s.setup().files_size(); ++f) {
    const File& file = s.setup().files(f);
    const std::string path = absl::StrCat("setup.", At("files", f));
    if (file.name().empty()) {
      p.Add(path, "name is empty");
    } else if (!names.files.insert(file.name()).second) {
      p.Add(path, "duplicate file name '", file.name(), "'");
    }
    if (file.has_watch()) {
      names.watched_files.insert(file.name());
      const Watch& w = file.watch();
      if (w.watch_id() > 255) {
        p.Add(path + ".watch.watch_id", w.watch_id(), " is above 255");
      }
      if (w.ring_notes() > 512) {
        p.Add(path + ".watch.ring_notes", w.ring_notes(), " is above 512");
      }
      if (w.has_start_after_step() &&
          w.start_after_step() >= static_cast<uint32_t>(s.steps_size())) {
        p.Add(path + ".watch.start_after_step", "no step ",
              w.start_after_step(), " (the scenario has ", s.steps_size(), ")");
      }
    }
    for (int v = 0; v < file.vms_size(); ++v) {
      const Vm& vm = file.vms(v);
      const std::string vpath = absl::StrCat(path, ".", At("vms", v));
      if (vm.name().empty()) p.Add(vpath, "name is empty");
      if (vm.count() > Limits::kMaxVms) {
        p.Add(vpath + ".count", vm.count(), " is above ", Limits::kMaxVms);
      }
      if (!vm.name().empty() && vm.count() <= Limits::kMaxVms) {
        for (const std::string& name : ExpandVmNames(vm)) {
          if (!names.vm_file.emplace(name, file.name()).second) {
            p.Add(vpath, "duplicate VM name '", name, "'");
          }
        }
      }
      std::set<int> flags;
      for (int flag : vm.flags()) {
        if (flag == VM_FLAG_UNSPECIFIED) {
          p.Add(vpath + ".flags", "VM_FLAG_UNSPECIFIED is not a flag");
        }
        flags.insert(flag);
      }
      const bool lr = flags.count(VM_FLAG_LR_MODE) > 0;
      if (flags.count(VM_FLAG_RESTARTABLE) && !lr) {
        p.Add(vpath + ".flags", "RESTARTABLE needs LR_MODE");
      }
      if (flags.count(VM_FLAG_FAULT_MODE) && !lr) {
        p.Add(vpath + ".flags", "FAULT_MODE needs LR_MODE");
      }
      if (flags.count(VM_FLAG_FAULT_MODE) && flags.count(VM_FLAG_RESTARTABLE)) {
        p.Add(vpath + ".flags",
              "RESTARTABLE and FAULT_MODE exclude each other");
      }
      CheckBos(p, vpath, vm);
    }
  }
}

void CheckPressure(Problems& p, const std::string& path, const Pressure& pr) {
  const int set = (pr.bytes() != 0) + (pr.fraction_of_total() != 0) +
                  (pr.fraction_of_free() != 0);
  if (set != 1) {
    p.Add(path,
          "exactly one of bytes, fraction_of_total, fraction_of_free "
          "must be set, got ",
          set);
  }
  if (pr.bytes() > Limits::kMaxBytes) {
    p.Add(path + ".bytes", pr.bytes(), " is above ", Limits::kMaxBytes,
          " (2^48)");
  }
  for (auto [name, value] : {std::pair<const char*, double>{
                                 "fraction_of_total", pr.fraction_of_total()},
                             {"fraction_of_free", pr.fraction_of_free()}}) {
    if (value != 0 && !(value > 0 && value <= 1)) {
      p.Add(absl::StrCat(path, ".", name), value, " is not in (0, 1]");
    }
  }
}

void CheckFault(Problems& p, const std::string& path, const Fault& fault,
                const Names& names) {
  const bool all_of_file = fault.kind_case() == Fault::kFailRebinds &&
                           fault.fail_rebinds().all_vms_of_file();
  const bool by_file = fault.kind_case() == Fault::kDropRecords || all_of_file;
  if (!fault.file().empty()) {
    CheckFile(p, path + ".file", fault.file(), names, false, false);
  }
  if (!fault.vm().empty() || !by_file) {
    if (!(all_of_file && fault.vm().empty())) {
      CheckVm(p, path + ".vm", fault.vm(), names);
    }
  }
  if (by_file && fault.vm().empty() && fault.file().empty()) {
    p.Add(path, "needs a file (or a VM whose file to use)");
  }
  switch (fault.kind_case()) {
    case Fault::kFailRebinds:
      if (fault.fail_rebinds().count() == 0) {
        p.Add(path + ".fail_rebinds.count", "must be above 0");
      }
      if (fault.fail_rebinds().error() == ERRNO_UNSPECIFIED) {
        p.Add(path + ".fail_rebinds.error", "an errno is required");
      }
      break;
    case Fault::kRestartEagain:
      if (fault.restart_eagain() == 0) {
        p.Add(path + ".restart_eagain", "must be above 0");
      }
      break;
    case Fault::kDropRecords:
      if (fault.drop_records() == 0) {
        p.Add(path + ".drop_records", "must be above 0");
      }
      break;
    case Fault::kTriggerRebind:
      if (!fault.trigger_rebind()) p.Add(path + ".trigger_rebind", "is false");
      break;
    case Fault::KIND_NOT_SET:
      p.Add(path, "no fault kind set");
      break;
  }
}

void CheckSteps(Problems& p, const Scenario& s, const Names& names) {
  std::set<std::string> held;  // pressure labels injected, not yet released
  std::set<std::string> destroyed_vms, closed_files;
  for (int i = 0; i < s.steps_size(); ++i) {
    const Step& step = s.steps(i);
    const std::string path = At("steps", i);
    switch (step.action_case()) {
      case Step::kInjectPressure: {
        CheckPressure(p, path + ".inject_pressure", step.inject_pressure());
        const std::string& label = step.inject_pressure().label();
        if (!held.insert(label).second) {
          p.Add(path + ".inject_pressure.label", "pressure '", label,
                "' is already held (release it first)");
        }
        break;
      }
      case Step::kReleasePressure:
        if (held.erase(step.release_pressure()) == 0) {
          p.Add(path + ".release_pressure", "no inject_pressure with label '",
                step.release_pressure(), "' before this step");
        }
        break;
      case Step::kFault:
        CheckFault(p, path + ".fault", step.fault(), names);
        if (destroyed_vms.count(step.fault().vm())) {
          p.Add(path + ".fault.vm", "VM '", step.fault().vm(),
                "' was destroyed by an earlier step");
        }
        break;
      case Step::kDestroyVm:
        CheckVm(p, path + ".destroy_vm", step.destroy_vm(), names);
        if (!destroyed_vms.insert(step.destroy_vm()).second) {
          p.Add(path + ".destroy_vm", "VM '", step.destroy_vm(),
                "' was destroyed by an earlier step");
        }
        break;
      case Step::kCloseFile:
        CheckFile(p, path + ".close_file", step.close_file(), names, false,
                  false);
        if (!closed_files.insert(step.close_file()).second) {
          p.Add(path + ".close_file", "file '", step.close_file(),
                "' was closed by an earlier step");
        }
        break;
      case Step::kWaitMs:
      case Step::kWaitHealthyMs:
      case Step::kWaitRestarts:
        break;
      case Step::ACTION_NOT_SET:
        p.Add(path, "no action set");
        break;
    }
  }
}

}  // namespace

std::vector<std::string> ExpandVmNames(const Vm& vm) {
  if (vm.count() <= 1) return {vm.name()};
  std::vector<std::string> names;
  names.reserve(vm.count());
  for (uint32_t i = 0; i < vm.count(); ++i) {
    names.push_back(absl::StrCat(vm.name(), i));
  }
  return names;
}

absl::Status ValidateScenario(const Scenario& scenario,
                              absl::string_view source_name) {
  Problems p(source_name);
  if (scenario.name().empty()) p.Add("name", "is empty");
  Names names;
  CheckSetup(p, scenario, names);
  CheckRecovery(p, scenario.recovery());
  CheckSteps(p, scenario, names);
  scenario_internal::CheckExpectations(p, scenario, names);
  return p.ToStatus();
}

}  // namespace xehil
