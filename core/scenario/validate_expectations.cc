// ValidateScenario's checks of the expectations.
#include "core/scenario/internal/validation.h"

namespace xehil::scenario_internal {

void CheckExpectations(Problems& p, const Scenario& s, const Names& names) {
  std::set<std::string> seen;
  for (int i = 0; i < s.expectations_size(); ++i) {
    const Expectation& e = s.expectations(i);
    const std::string path = At("expectations", i);
    if (!e.name().empty() && !seen.insert(e.name()).second) {
      p.Add(path + ".name", "duplicate expectation name '", e.name(), "'");
    }
    switch (e.check_case()) {
      case Expectation::kEventsSeen: {
        const EventsSeen& c = e.events_seen();
        CheckFile(p, path + ".events_seen.file", c.file(), names, true, true);
        if (c.errors_size() > 0 && c.type() != EVENT_TYPE_VM_ERR &&
            c.type() != EVENT_TYPE_UNSPECIFIED) {
          p.Add(path + ".events_seen.errors", "errors only apply to VM_ERR");
        }
        CheckRange(p, path + ".events_seen.count", c.count());
        break;
      }
      case Expectation::kAllHealthy:
        for (int f = 0; f < e.all_healthy().files_size(); ++f) {
          CheckFile(p, absl::StrCat(path, ".all_healthy.", At("files", f)),
                    e.all_healthy().files(f), names, false, false);
        }
        break;
      case Expectation::kRestarts: {
        const RestartBounds& r = e.restarts();
        const std::string rp = path + ".restarts";
        CheckFile(p, rp + ".file", r.file(), names, true, true);
        CheckRange(p, rp + ".tried", r.tried());
        CheckRange(p, rp + ".succeeded", r.succeeded());
        CheckRange(p, rp + ".failed", r.failed());
        CheckRange(p, rp + ".benign", r.benign());
        CheckRange(p, rp + ".eagain_tries", r.eagain_tries());
        CheckRange(p, rp + ".reconciles", r.reconciles());
        CheckRange(p, rp + ".reported", r.reported());
        break;
      }
      case Expectation::kNoEventFor:
        CheckFile(p, path + ".no_event_for.file", e.no_event_for().file(),
                  names, true, true);
        break;
      case Expectation::kLatency:
        CheckFile(p, path + ".latency.file", e.latency().file(), names, true,
                  true);
        break;
      case Expectation::kVmState:
        CheckVm(p, path + ".vm_state.vm", e.vm_state().vm(), names);
        if (e.vm_state().outcome() == VM_OUTCOME_UNSPECIFIED) {
          p.Add(path + ".vm_state.outcome", "an outcome is required");
        }
        break;
      case Expectation::kListenerEnded:
        CheckFile(p, path + ".listener_ended.file", e.listener_ended().file(),
                  names, true, false);
        break;
      case Expectation::CHECK_NOT_SET:
        p.Add(path, "no check set");
        break;
    }
  }
}

}  // namespace xehil::scenario_internal
