#include "core/scenario/runner.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/errno_status.h"
#include "core/scenario/describe.h"
#include "core/scenario/internal/expectations.h"
#include "core/scenario/internal/run_state.h"
#include "core/scenario/internal/setup.h"
#include "core/scenario/internal/steps.h"
#include "core/scenario/internal/totals.h"
#include "core/scenario/internal/vm_view.h"
#include "core/scenario/report_writer.h"
#include "core/scenario/validate.h"

namespace xehil {
namespace {

using scenario_internal::Clock;
using scenario_internal::RunState;
using scenario_internal::SetupOutcome;
using scenario_internal::StepOutcome;

struct Ending {
  Result result = RESULT_UNSPECIFIED;  // unset: decided by the expectations
  std::string reason;
};

void Note(RunState& state, std::string detail) {
  TimelineEntry note;
  note.set_t_us(state.NowUs());
  note.set_kind("note");
  note.set_detail(std::move(detail));
  state.AddTimeline(std::move(note));
}

std::string TimedOutReason(const RunState& state, const std::string& where) {
  return absl::StrCat(
      "timed out after ",
      state.scenario.timeout_ms() == 0 ? 30000 : state.scenario.timeout_ms(),
      " ms in ", where);
}

// Runs the steps; an ending if the run cannot go on to the expectations.
std::optional<Ending> RunSteps(RunState& state) {
  const Scenario& s = state.scenario;
  for (int i = 0; i < s.steps_size(); ++i) {
    const Step& step = s.steps(i);
    const std::string where =
        absl::StrCat("steps[", i, "] (", DescribeStep(step), ")");
    const Clock::time_point at =
        state.setup_end + std::chrono::milliseconds(step.at_ms());
    state.SleepUntil(scenario_internal::Cap(state, at));
    if (at > state.deadline) {
      return Ending{RESULT_TIMEOUT,
                    TimedOutReason(state, absl::StrCat("waiting for ", where))};
    }
    state.Emit(Progress::Kind::kStepStarted,
               absl::StrCat("steps[", i, "] +", state.MsSince(state.setup_end),
                            " ms: ", DescribeStep(step)));
    TimelineEntry entry;
    entry.set_t_us(state.NowUs());
    entry.set_kind("step");
    entry.set_detail(absl::StrCat("steps[", i, "] ", DescribeStep(step)));
    state.AddTimeline(std::move(entry));

    const StepOutcome outcome = scenario_internal::RunStep(state, i);
    const char* how = outcome.kind == StepOutcome::kDone      ? "done"
                      : outcome.kind == StepOutcome::kSkipped ? "skipped"
                      : outcome.kind == StepOutcome::kFailed  ? "failed"
                      : outcome.kind == StepOutcome::kSkipRun ? "cannot run"
                                                              : "timed out";
    const std::string line =
        absl::StrCat("steps[", i, "] ", how, ": ", outcome.message);
    state.Emit(Progress::Kind::kStepFinished, line);
    switch (outcome.kind) {
      case StepOutcome::kDone:
        break;
      case StepOutcome::kSkipped:
        state.skipped_steps.push_back(
            absl::StrCat(where, ": ", outcome.message));
        Note(state, line);
        break;
      case StepOutcome::kSkipRun:
        return Ending{RESULT_SKIP, absl::StrCat(where, ": ", outcome.message)};
      case StepOutcome::kFailed:
        return Ending{RESULT_INCOMPLETE,
                      absl::StrCat(where, " failed: ", outcome.message)};
      case StepOutcome::kTimedOut:
        return Ending{RESULT_TIMEOUT, absl::StrCat(TimedOutReason(state, where),
                                                   ": ", outcome.message)};
    }
    for (size_t f = 0; f < state.files.size(); ++f) {
      const File& spec = *state.files[f]->spec;
      if (!spec.has_watch() || !spec.watch().has_start_after_step() ||
          spec.watch().start_after_step() != static_cast<uint32_t>(i)) {
        continue;
      }
      // On the simulator the step's asynchronous effects (rebinds it queued)
      // land first, so a late listener deterministically finds them queued.
      scenario_internal::SettleDevice(state);
      absl::Status started = state.StartListener(f);
      if (!started.ok()) {
        return Ending{
            RESULT_INCOMPLETE,
            absl::StrCat("starting the listener of '", state.files[f]->name,
                         "': ", started.ToString())};
      }
      state.Emit(
          Progress::Kind::kStepFinished,
          absl::StrCat("listener of '", state.files[f]->name, "' started"));
    }
  }
  return std::nullopt;
}

// Checks the expectations into `report`; an ending if the run timed out.
std::optional<Ending> CheckAll(RunState& state, Report& report) {
  std::optional<Ending> ending;
  for (const Expectation& e : state.scenario.expectations()) {
    ExpectationResult r;
    if (ending.has_value()) {
      r.set_name(ExpectationName(e));
      r.set_result(RESULT_SKIP);
      r.set_message("not checked: the scenario timed out");
    } else {
      r = scenario_internal::CheckExpectation(state, e);
      if (r.result() == RESULT_TIMEOUT) {
        ending = Ending{RESULT_TIMEOUT,
                        TimedOutReason(state, absl::StrCat("expectation '",
                                                           r.name(), "'"))};
      }
    }
    state.Emit(
        Progress::Kind::kExpectation,
        absl::StrCat(ResultName(r.result()), " ", r.name(), ": ", r.message()),
        r.result());
    *report.add_expectations() = std::move(r);
  }
  return ending;
}

void NotChecked(const Scenario& s, const std::string& why, Report& report) {
  for (const Expectation& e : s.expectations()) {
    ExpectationResult* r = report.add_expectations();
    r->set_name(ExpectationName(e));
    r->set_result(RESULT_SKIP);
    r->set_message(absl::StrCat("not checked: ", why));
  }
}

// PASS iff every expectation passed; FAIL if any failed; else SKIP.
Ending FromExpectations(const Report& report) {
  std::vector<std::string> failed, skipped;
  for (const ExpectationResult& r : report.expectations()) {
    if (r.result() == RESULT_FAIL) failed.push_back(r.name());
    if (r.result() == RESULT_SKIP) skipped.push_back(r.name());
  }
  if (!failed.empty()) {
    return {
        RESULT_FAIL,
        absl::StrCat(failed.size(), " of ", report.expectations_size(),
                     " expectations failed: ", absl::StrJoin(failed, "; "))};
  }
  if (!skipped.empty()) {
    return {RESULT_SKIP, absl::StrCat("not checkable on this backend: ",
                                      absl::StrJoin(skipped, "; "))};
  }
  return {RESULT_PASS, ""};
}

void RunBody(RunState& state, Report& report) {
  const Scenario& s = state.scenario;
  const SetupOutcome setup = scenario_internal::SetUp(state);
  state.setup_end = Clock::now();
  std::optional<Ending> ending;
  if (setup.kind == SetupOutcome::kOk) {
    const std::string line = absl::StrCat(
        "setup: ", state.files.size(), " file(s), ", state.vms.size(),
        " VM(s), ", setup.bos, " BO(s) in ", state.MsSince(state.start), " ms");
    Note(state, line);
    state.Emit(Progress::Kind::kSetup, line);
    if (Clock::now() > state.deadline) {
      ending = Ending{RESULT_TIMEOUT, TimedOutReason(state, "setup")};
    } else {
      ending = RunSteps(state);
    }
  } else if (setup.kind == SetupOutcome::kTimedOut) {
    const std::string reason =
        absl::StrCat(TimedOutReason(state, "setup"), ": ", setup.reason);
    Note(state, absl::StrCat("setup: ", reason));
    state.Emit(Progress::Kind::kSetup, absl::StrCat("setup: ", reason));
    ending = Ending{RESULT_TIMEOUT, reason};
  } else {
    const std::string line = absl::StrCat("setup: ", setup.reason);
    Note(state, line);
    state.Emit(Progress::Kind::kSetup, line);
    ending = Ending{
        setup.kind == SetupOutcome::kSkip ? RESULT_SKIP : RESULT_INCOMPLETE,
        setup.reason};
  }
  state.steps_end = Clock::now();
  if (ending.has_value()) {
    NotChecked(s, ending->reason, report);
  } else {
    ending = CheckAll(state, report);
    if (!ending.has_value()) ending = FromExpectations(report);
  }
  // Expectations judged after steps that could not run here (scripted faults
  // need the simulator, pressure an injector) say nothing about the policy:
  // unless the scenario passed anyway, that is a skip naming the steps.
  if (ending->result != RESULT_PASS && ending->result != RESULT_SKIP &&
      !state.skipped_steps.empty()) {
    ending = Ending{
        RESULT_SKIP,
        absl::StrCat("could not run every step here: ",
                     absl::StrJoin(state.skipped_steps, "; "), " (would be ",
                     Result_Name(ending->result), ": ", ending->reason, ")")};
  }
  report.set_result(ending->result);
  report.set_reason(ending->reason);

  *report.mutable_restarts() = scenario_internal::SumRestarts(state, "");
  *report.mutable_latency() = scenario_internal::MergeLatency(state, "");
  EventCounts* events = report.mutable_events();
  for (size_t f = 0; f < state.files.size(); ++f) {
    for (const scenario_internal::SeenEvent& e : state.EventsOf(f)) {
      switch (e.type) {
        case EVENT_TYPE_VM_ERR:
          events->set_vm_errors(events->vm_errors() + 1);
          break;
        case EVENT_TYPE_LOST:
          events->set_losses(events->losses() + 1);
          break;
        case EVENT_TYPE_REMOVED:
          events->set_removals(events->removals() + 1);
          break;
        default:
          events->set_unknowns(events->unknowns() + 1);
          break;
      }
    }
  }
  for (const std::string& skipped : state.skipped_steps) {
    report.add_skipped_steps(skipped);
  }
}

// Pressure still held when the run ends is given back here, where a failure
// can be reported: a run that leaves the host under pressure did not
// complete, whatever its expectations said.
void ReleaseLeftoverPressure(RunState& state, Report& report) {
  std::vector<std::string> failed;
  for (auto& [label, lease] : state.leases) {
    if (lease == nullptr) continue;
    absl::Status released = lease->Release();
    if (!released.ok()) {
      failed.push_back(absl::StrCat("'", label, "': ", released.message()));
    }
  }
  if (failed.empty()) return;
  const std::string why =
      absl::StrCat("pressure still held after the run: releasing ",
                   absl::StrJoin(failed, "; "), " failed");
  Note(state, why);
  if (report.result() == RESULT_PASS || report.result() == RESULT_SKIP) {
    report.set_result(RESULT_INCOMPLETE);
    report.set_reason(why);
  } else {
    report.set_reason(absl::StrCat(report.reason(), "; ", why));
  }
}

}  // namespace

absl::StatusOr<Report> RunScenario(const Scenario& scenario,
                                   RunEnvironment& env,
                                   const RunOptions& options) {
  const std::string source =
      options.source.empty() ? scenario.name() : options.source;
  XEHIL_RETURN_IF_ERROR(ValidateScenario(scenario, source));
  if (!env.open_file) {
    return absl::InvalidArgumentError("RunEnvironment.open_file is empty");
  }
  Report report;
  report.set_scenario(scenario.name());
  report.set_source(options.source);
  report.set_backend(env.backend_name);
  report.set_device(env.device_description);
  report.set_policy(!options.policy_name.empty() ? options.policy_name
                    : options.policy_factory     ? "custom"
                                                 : "default");
  report.set_seed(options.seed);
  report.set_repeat_index(options.repeat_index);
  RunState state(scenario, env, options);
  RunBody(state, report);
  ReleaseLeftoverPressure(state, report);
  state.Teardown();
  for (TimelineEntry& entry : state.Timeline()) {
    *report.add_timeline() = std::move(entry);
  }
  report.set_duration_ms(state.MsSince(state.start));
  state.Emit(Progress::Kind::kDone,
             absl::StrCat(ResultName(report.result()), " ", scenario.name(),
                          " in ", report.duration_ms(), " ms",
                          report.reason().empty() ? "" : ": ", report.reason()),
             report.result());
  return report;
}

}  // namespace xehil
