#include "sim/simd/rules.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "sim/simd/script.h"

namespace xehil::simd {
namespace {

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool ProgramMatches(const sim::Rule& rule, const std::string& program) {
  return rule.program().empty() || rule.program() == program ||
         rule.program() == Basename(program);
}

const sim::Occurrence* OccurrenceFor(const sim::Trigger& when,
                                     RuleEvent event) {
  switch (event) {
    case RuleEvent::kFileOpened:
      return when.has_file_opened() ? &when.file_opened() : nullptr;
    case RuleEvent::kWatchSubscribed:
      return when.has_watch_subscribed() ? &when.watch_subscribed() : nullptr;
    case RuleEvent::kVmCreated:
      return when.has_vm_created() ? &when.vm_created() : nullptr;
    case RuleEvent::kVmBound:
      return when.has_vm_bound() ? &when.vm_bound() : nullptr;
  }
  return nullptr;
}

const char* EventName(RuleEvent event) {
  switch (event) {
    case RuleEvent::kFileOpened:
      return "file opened";
    case RuleEvent::kWatchSubscribed:
      return "watch subscribed";
    case RuleEvent::kVmCreated:
      return "VM created";
    case RuleEvent::kVmBound:
      return "VM bound";
  }
  return "event";
}

}  // namespace

absl::StatusOr<uint16_t> ResolveRegion(const sim::DeviceProfile& profile,
                                       const sim::RegionBytes& region) {
  if (region.has_instance()) {
    for (const sim::MemRegionSpec& spec : profile.regions) {
      if (spec.instance == region.instance()) return spec.instance;
    }
    return absl::NotFoundError(absl::StrCat(
        profile.name, " has no memory region instance ", region.instance()));
  }
  const bool want_vram = region.region() == MEMORY_REGION_VRAM ||
                         (region.region() == MEMORY_REGION_UNSPECIFIED &&
                          sim::IsDiscrete(profile));
  const uint16_t mem_class =
      want_vram ? DRM_XE_MEM_REGION_CLASS_VRAM : DRM_XE_MEM_REGION_CLASS_SYSMEM;
  for (const sim::MemRegionSpec& spec : profile.regions) {
    if (spec.mem_class == mem_class) return spec.instance;
  }
  return absl::NotFoundError(absl::StrCat(
      profile.name, " has no ", want_vram ? "VRAM" : "system memory"));
}

std::vector<uint32_t> RestartableVms(const sim::Device& device,
                                     sim::FileId file) {
  std::vector<uint32_t> ids;
  absl::StatusOr<std::map<uint32_t, sim::VmStatus>> vms = device.ListVms(file);
  if (!vms.ok()) return ids;
  for (const auto& [id, vm] : *vms) {
    if (vm.flags & DRM_XE_VM_CREATE_FLAG_RESTARTABLE) ids.push_back(id);
  }
  return ids;
}

absl::Status ApplyAction(sim::Device& device, const sim::Action& action,
                         sim::FileId file, const std::vector<uint32_t>& vms,
                         std::string* what) {
  absl::Status first = absl::OkStatus();
  auto note = [&](absl::Status status) {
    if (first.ok()) first = std::move(status);
  };
  const std::string vm_list =
      vms.empty() ? "no VM" : absl::StrCat("VM ", absl::StrJoin(vms, ", "));
  switch (action.action_case()) {
    case sim::Action::kFailRebinds: {
      const uint32_t count = std::max(1u, action.fail_rebinds().count());
      const int error = -static_cast<int>(action.fail_rebinds().error());
      for (uint32_t vm : vms) {
        note(device.FailNextRebinds(file, vm, count, error));
      }
      *what = absl::StrCat("fail next ", count, " rebinds with ",
                           DescribeErrno(error), " on ", vm_list);
      break;
    }
    case sim::Action::kRestartEagain:
      for (uint32_t vm : vms) {
        note(device.FailNextRestarts(file, vm, action.restart_eagain()));
      }
      *what = absl::StrCat("next ", action.restart_eagain(),
                           " restarts -EAGAIN on ", vm_list);
      break;
    case sim::Action::kDropRecords:
      note(device.DropNextRecords(file, action.drop_records()));
      *what = absl::StrCat("drop next ", action.drop_records(), " records");
      break;
    case sim::Action::kTriggerRebind:
      for (uint32_t vm : vms) note(device.TriggerRebind(file, vm));
      *what = absl::StrCat("trigger rebind of ", vm_list);
      break;
    case sim::Action::kInjectPressure:
    case sim::Action::kReleasePressure: {
      const bool inject = action.has_inject_pressure();
      const sim::RegionBytes& bytes =
          inject ? action.inject_pressure() : action.release_pressure();
      absl::StatusOr<uint16_t> instance =
          ResolveRegion(device.profile(), bytes);
      if (!instance.ok()) return instance.status();
      note(inject ? device.InjectPressure(*instance, bytes.bytes())
                  : device.ReleasePressure(*instance, bytes.bytes()));
      *what = absl::StrCat(inject ? "inject " : "release ",
                           sim::FormatBytes(bytes.bytes()),
                           " of pressure on region ", *instance);
      break;
    }
    case sim::Action::ACTION_NOT_SET:
      return absl::InvalidArgumentError("empty action");
  }
  return first;
}

RuleEngine::RuleEngine(std::shared_ptr<sim::Device> device, Log log)
    : device_(std::move(device)), log_(std::move(log)) {}

void RuleEngine::AddRules(const sim::SimdScript& script) {
  absl::MutexLock lock(&mu_);
  for (const sim::Rule& rule : script.rule()) {
    Active active;
    active.rule = rule;
    active.name = RuleName(rule, static_cast<int>(rules_.size()) + 1);
    rules_.push_back(std::move(active));
  }
}

int RuleEngine::rule_count() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(rules_.size());
}

void RuleEngine::OnEvent(RuleEvent event, const FileRef& file, uint32_t vm_id) {
  absl::MutexLock lock(&mu_);
  if (rules_.empty()) return;
  const uint32_t nth = ++counts_[{file.id, event}];
  for (Active& active : rules_) {
    const sim::Occurrence* occurrence =
        OccurrenceFor(active.rule.when(), event);
    if (occurrence == nullptr || !ProgramMatches(active.rule, file.program)) {
      continue;
    }
    // file_opened counts the files this rule matches, device-wide.
    const uint32_t ordinal =
        event == RuleEvent::kFileOpened ? ++active.matched_files : nth;
    if (occurrence->nth() != 0 && occurrence->nth() != ordinal) continue;
    if (active.rule.times() != 0 && active.fired >= active.rule.times()) {
      continue;
    }
    ++active.fired;
    if (log_) {
      log_(absl::StrCat(active.name, " fired: ", EventName(event), " #",
                        ordinal, " on file ", file.id, " (", file.program,
                        ", pid ", file.pid, ")"));
    }
    const bool vm_event =
        event == RuleEvent::kVmCreated || event == RuleEvent::kVmBound;
    FireLocked(active, file, vm_id, vm_event);
  }
}

void RuleEngine::FireLocked(Active& active, const FileRef& file, uint32_t vm_id,
                            bool vm_event) {
  const std::vector<uint32_t> vms = vm_event
                                        ? std::vector<uint32_t>{vm_id}
                                        : RestartableVms(*device_, file.id);
  for (const sim::Action& action : active.rule.action()) {
    std::string what;
    absl::Status status = ApplyAction(*device_, action, file.id, vms, &what);
    if (!status.ok()) {
      ++active.errors;
      active.last_error = std::string(status.message());
    }
    if (log_) {
      log_(absl::StrCat("  ", what.empty() ? "action" : what,
                        status.ok() ? "" : ": ",
                        status.ok() ? "" : status.message()));
    }
  }
}

void RuleEngine::ForgetFile(sim::FileId file) {
  absl::MutexLock lock(&mu_);
  for (auto it = counts_.begin(); it != counts_.end();) {
    it = it->first.first == file ? counts_.erase(it) : std::next(it);
  }
}

std::vector<sim::RuleStatus> RuleEngine::Status() const {
  absl::MutexLock lock(&mu_);
  std::vector<sim::RuleStatus> out;
  for (const Active& active : rules_) {
    sim::RuleStatus status;
    status.set_name(active.name);
    status.set_fired(active.fired);
    status.set_times(active.rule.times());
    status.set_errors(active.errors);
    status.set_last_error(active.last_error);
    out.push_back(std::move(status));
  }
  return out;
}

}  // namespace xehil::simd
