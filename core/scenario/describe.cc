#include "core/scenario/describe.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"

namespace xehil {
namespace {

std::string OnFile(const std::string& file) {
  return file.empty() ? "" : absl::StrCat(" on '", file, "'");
}

std::string RegionLabel(MemoryRegion region) {
  switch (region) {
    case MEMORY_REGION_VRAM:
      return "VRAM";
    case MEMORY_REGION_SYSTEM:
      return "system memory";
    default:
      return "default region";
  }
}

std::string DescribePressure(const Pressure& p) {
  std::string amount;
  if (p.bytes() != 0) {
    amount = absl::StrCat(p.bytes(), " bytes");
  } else if (p.fraction_of_total() != 0) {
    amount = absl::StrFormat("%g%% of total", p.fraction_of_total() * 100);
  } else {
    amount = absl::StrFormat("%g%% of free", p.fraction_of_free() * 100);
  }
  return absl::StrCat("inject_pressure ", RegionLabel(p.region()), " ", amount,
                      p.label().empty() ? "" : " as '" + p.label() + "'");
}

std::string DescribeFault(const Fault& f) {
  const std::string target = f.vm().empty()
                                 ? absl::StrCat("file '", f.file(), "'")
                                 : absl::StrCat("VM '", f.vm(), "'");
  switch (f.kind_case()) {
    case Fault::kFailRebinds: {
      const FailRebinds& r = f.fail_rebinds();
      return absl::StrCat(
          "fault: fail the next ", r.count(), " rebind(s) of ",
          r.all_vms_of_file()
              ? absl::StrCat("every VM of file '", f.file(), "'")
              : target,
          " with ", DescribeErrno(NegativeErrno(r.error())),
          r.trigger() ? ", trigger now" : "");
    }
    case Fault::kRestartEagain:
      return absl::StrCat("fault: the next ", f.restart_eagain(),
                          " VM_RESTART(s) of ", target, " answer -EAGAIN");
    case Fault::kDropRecords:
      return absl::StrCat("fault: drop the next ", f.drop_records(),
                          " record(s) of ", target);
    case Fault::kTriggerRebind:
      return absl::StrCat("fault: trigger the rebind of ", target);
    case Fault::KIND_NOT_SET:
      break;
  }
  return "fault: (none)";
}

}  // namespace

int NegativeErrno(xehil::Errno error) { return -static_cast<int>(error); }

std::string DescribeRange(const CountRange& range) {
  if (!range.has_max()) {
    return range.min() == 0 ? "any" : absl::StrCat(">= ", range.min());
  }
  if (range.min() == range.max()) return absl::StrCat(range.min());
  if (range.min() == 0) return absl::StrCat("<= ", range.max());
  return absl::StrCat(range.min(), "..", range.max());
}

bool InRange(const CountRange& range, uint64_t value) {
  return value >= range.min() && (!range.has_max() || value <= range.max());
}

std::string EventTypeLabel(EventType type) {
  switch (type) {
    case EVENT_TYPE_VM_ERR:
      return "VM_ERR";
    case EVENT_TYPE_LOST:
      return "LOST";
    case EVENT_TYPE_REMOVED:
      return "REMOVED";
    case EVENT_TYPE_UNKNOWN:
      return "UNKNOWN";
    default:
      return "any";
  }
}

std::string VmOutcomeLabel(VmOutcome outcome) {
  switch (outcome) {
    case VM_OUTCOME_HEALTHY:
      return "HEALTHY";
    case VM_OUTCOME_PAUSED:
      return "PAUSED";
    case VM_OUTCOME_BANNED:
      return "BANNED";
    case VM_OUTCOME_GONE:
      return "GONE";
    case VM_OUTCOME_REPORTED:
      return "REPORTED";
    default:
      return "UNSPECIFIED";
  }
}

std::string CheckKind(const Expectation& e) {
  switch (e.check_case()) {
    case Expectation::kEventsSeen:
      return "events_seen";
    case Expectation::kAllHealthy:
      return "all_healthy";
    case Expectation::kRestarts:
      return "restarts";
    case Expectation::kNoEventFor:
      return "no_event_for";
    case Expectation::kLatency:
      return "latency";
    case Expectation::kVmState:
      return "vm_state";
    case Expectation::kListenerEnded:
      return "listener_ended";
    case Expectation::CHECK_NOT_SET:
      break;
  }
  return "none";
}

std::string ExpectationName(const Expectation& e) {
  if (!e.name().empty()) return e.name();
  const std::string kind = CheckKind(e);
  switch (e.check_case()) {
    case Expectation::kEventsSeen: {
      const EventsSeen& c = e.events_seen();
      std::vector<std::string> errors;
      for (int error : c.errors()) {
        errors.push_back("-" + ErrnoName(error));
      }
      return absl::StrCat(kind, " ", EventTypeLabel(c.type()),
                          errors.empty() ? "" : " ", absl::StrJoin(errors, "|"),
                          OnFile(c.file()), " count ",
                          DescribeRange(c.count()));
    }
    case Expectation::kAllHealthy:
      return e.all_healthy().files().empty()
                 ? kind
                 : absl::StrCat(kind, " '",
                                absl::StrJoin(e.all_healthy().files(), "', '"),
                                "'");
    case Expectation::kRestarts:
      return absl::StrCat(kind, OnFile(e.restarts().file()));
    case Expectation::kNoEventFor:
      return absl::StrCat(kind, OnFile(e.no_event_for().file()));
    case Expectation::kLatency:
      return absl::StrCat(kind, OnFile(e.latency().file()));
    case Expectation::kVmState:
      return absl::StrCat(kind, " '", e.vm_state().vm(), "' ",
                          VmOutcomeLabel(e.vm_state().outcome()));
    case Expectation::kListenerEnded:
      return absl::StrCat(kind, OnFile(e.listener_ended().file()),
                          e.listener_ended().on_removal() ? " on removal" : "");
    case Expectation::CHECK_NOT_SET:
      break;
  }
  return kind;
}

std::string DescribeStep(const Step& step) {
  std::string what;
  switch (step.action_case()) {
    case Step::kInjectPressure:
      what = DescribePressure(step.inject_pressure());
      break;
    case Step::kReleasePressure:
      what = absl::StrCat("release_pressure '", step.release_pressure(), "'");
      break;
    case Step::kFault:
      what = DescribeFault(step.fault());
      break;
    case Step::kDestroyVm:
      what = absl::StrCat("destroy_vm '", step.destroy_vm(), "'");
      break;
    case Step::kCloseFile:
      what = absl::StrCat("close_file '", step.close_file(), "'");
      break;
    case Step::kWaitMs:
      what = absl::StrCat("wait_ms ", step.wait_ms());
      break;
    case Step::kWaitHealthyMs:
      what = absl::StrCat("wait_healthy_ms ", step.wait_healthy_ms());
      break;
    case Step::kWaitRestarts:
      what = absl::StrCat("wait_restarts ", step.wait_restarts());
      break;
    case Step::ACTION_NOT_SET:
      what = "(no action)";
      break;
  }
  if (!step.note().empty()) absl::StrAppend(&what, " (", step.note(), ")");
  return what;
}

}  // namespace xehil
