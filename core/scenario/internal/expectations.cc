#include "core/scenario/internal/expectations.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/base/errno_status.h"
#include "core/scenario/describe.h"
#include "core/scenario/internal/totals.h"
#include "core/scenario/internal/vm_view.h"

namespace xehil::scenario_internal {
namespace {

struct Verdict {
  bool holds = false;
  bool settled = false;  // cannot come to hold any more
  std::string seen;      // "saw 1 (want >= 5)"
  std::string detail;    // after the time: "vm1 paused (-ENOSPC)"
};

// File indices named by `file` ("" : every file).
std::vector<size_t> FilesNamed(const RunState& state, const std::string& file) {
  if (file.empty()) return {};
  return {state.file_by_name.at(file)};
}

bool Quiet(RunState& state, const std::vector<size_t>& files) {
  SettleDevice(state);
  return EnginesQuiescent(state, files);
}

ExpectationResult Make(const Expectation& e, Result result,
                       const std::string& message) {
  ExpectationResult r;
  r.set_name(ExpectationName(e));
  r.set_result(result);
  r.set_message(absl::StrCat(CheckKind(e), ": ", message));
  return r;
}

// Evaluates until it holds or settles, or the deadline passes.
ExpectationResult Decide(RunState& state, const Expectation& e,
                         const std::function<Verdict()>& evaluate) {
  const Clock::time_point own =
      state.steps_end + std::chrono::milliseconds(e.within_ms());
  Verdict v;
  state.WaitUntil(Cap(state, own), [&] {
    v = evaluate();
    return v.holds || v.settled;
  });
  const std::string detail = v.detail.empty() ? "" : ": " + v.detail;
  const std::string after = absl::StrCat(
      v.seen, " after ", state.MsSince(state.steps_end), " ms", detail);
  if (v.holds) return Make(e, RESULT_PASS, after);
  if (!v.settled && own > state.deadline && Clock::now() >= state.deadline) {
    return Make(e, RESULT_TIMEOUT,
                absl::StrCat(v.seen, " when the scenario timed out", detail));
  }
  return Make(e, RESULT_FAIL, after);
}

bool Matches(const EventsSeen& c, const SeenEvent& event) {
  if (c.type() != EVENT_TYPE_UNSPECIFIED && c.type() != event.type) {
    return false;
  }
  if (c.errors_size() == 0) return true;
  if (event.type != EVENT_TYPE_VM_ERR) return false;
  for (int error : c.errors()) {
    if (NegativeErrno(static_cast<xehil::Errno>(error)) == event.error) {
      return true;
    }
  }
  return false;
}

Verdict EventsSeenVerdict(RunState& state, const EventsSeen& c) {
  const std::vector<size_t> files = FilesNamed(state, c.file());
  uint64_t count = 0;
  for (size_t i = 0; i < state.files.size(); ++i) {
    if (!files.empty() && files[0] != i) continue;
    for (const SeenEvent& event : state.EventsOf(i)) count += Matches(c, event);
  }
  Verdict v;
  v.seen =
      absl::StrCat("saw ", count, " (want ", DescribeRange(c.count()), ")");
  v.settled = c.count().has_max() && count > c.count().max();
  v.holds = InRange(c.count(), count) &&
            (!c.count().has_max() || Quiet(state, files));
  if (InRange(c.count(), count) && !v.holds) {
    absl::StrAppend(&v.seen, ", engines still busy");
  }
  return v;
}

Verdict RestartsVerdict(RunState& state, const RestartBounds& b) {
  const RestartCounts n = SumRestarts(state, b.file());
  struct Bound {
    const char* name;
    bool set;
    const CountRange& range;
    uint64_t value;
  };
  const Bound bounds[] = {
      {"tried", b.has_tried(), b.tried(), n.tried()},
      {"succeeded", b.has_succeeded(), b.succeeded(), n.succeeded()},
      {"failed", b.has_failed(), b.failed(), n.failed()},
      {"benign", b.has_benign(), b.benign(), n.benign()},
      {"eagain_tries", b.has_eagain_tries(), b.eagain_tries(),
       n.eagain_tries()},
      {"reconciles", b.has_reconciles(), b.reconciles(), n.reconciles()},
      {"reported", b.has_reported(), b.reported(), n.reported()},
  };
  Verdict v;
  v.holds = true;
  bool any_max = false;
  std::vector<std::string> parts;
  for (const Bound& bound : bounds) {
    if (!bound.set) continue;
    const bool ok = InRange(bound.range, bound.value);
    parts.push_back(absl::StrCat(bound.name, " ", bound.value, " (want ",
                                 DescribeRange(bound.range), ")",
                                 ok ? "" : " MISMATCH"));
    v.holds &= ok;
    any_max |= bound.range.has_max();
    v.settled |= bound.range.has_max() && bound.value > bound.range.max();
  }
  v.seen = parts.empty() ? "no bounds given" : absl::StrJoin(parts, ", ");
  if (v.holds && any_max && !Quiet(state, FilesNamed(state, b.file()))) {
    v.holds = false;
    absl::StrAppend(&v.seen, ", engines still busy");
  }
  return v;
}

Verdict LatencyVerdict(RunState& state, const LatencyBound& b) {
  const bool quiet = Quiet(state, FilesNamed(state, b.file()));
  const LatencySummary l = MergeLatency(state, b.file());
  std::vector<std::string> wanted;
  bool ok = true;
  auto check = [&](const char* name, uint32_t limit_us, double value_us) {
    if (limit_us == 0) return;
    wanted.push_back(absl::StrCat(name, " <= ", limit_us, "us"));
    ok &= value_us <= limit_us;
  };
  check("p50", b.p50_max_us(), l.p50_us());
  check("p99", b.p99_max_us(), l.p99_us());
  check("max", b.max_us(), l.max_us());
  Verdict v;
  v.seen = absl::StrFormat(
      "n=%d p50=%.1fus p99=%.1fus max=%.1fus (want %s)", l.count(), l.p50_us(),
      l.p99_us(), l.max_us(),
      wanted.empty() ? "anything" : absl::StrJoin(wanted, ", "));
  if (!quiet) absl::StrAppend(&v.seen, ", engines still busy");
  v.holds = quiet && ok;
  v.settled = quiet && !ok;
  return v;
}

Verdict VmStateVerdict(RunState& state, const VmStateCheck& c) {
  const VmEntry& vm = state.VmNamed(c.vm());
  SettleDevice(state);
  const VmView view = ViewVm(state, vm);
  Verdict v;
  const VmOutcome want = c.outcome();
  if (want == VM_OUTCOME_REPORTED) {
    const bool reported =
        view.engine.has_value() && (view.engine->state == VmState::kFailed ||
                                    view.engine->state == VmState::kGivenUp);
    v.holds = reported;
    v.seen =
        absl::StrCat("'", c.vm(), "' is ", view.text, ", engine: ",
                     view.engine.has_value()
                         ? absl::StrCat(VmStateName(view.engine->state),
                                        view.engine->reason.empty() ? "" : " (",
                                        view.engine->reason,
                                        view.engine->reason.empty() ? "" : ")")
                         : "never saw it");
  } else {
    const bool engine_gone =
        view.engine.has_value() && view.engine->state == VmState::kGone;
    v.holds = view.outcome == want || (want == VM_OUTCOME_GONE && engine_gone);
    v.seen = absl::StrCat("'", c.vm(), "' is ", view.text);
  }
  absl::StrAppend(&v.seen, " (want ", VmOutcomeLabel(want), ")");
  return v;
}

ExpectationResult NoEventForResult(RunState& state, const Expectation& e) {
  const std::vector<size_t> files = FilesNamed(state, e.no_event_for().file());
  const Clock::time_point own =
      state.steps_end + std::chrono::milliseconds(e.within_ms());
  std::string first;
  auto seen_one = [&] {
    for (size_t i = 0; i < state.files.size(); ++i) {
      if (!files.empty() && files[0] != i) continue;
      std::vector<SeenEvent> events = state.EventsOf(i);
      if (!events.empty()) {
        first = absl::StrCat("saw ", events.size(), " event(s), first ",
                             events[0].text, " at ", events[0].t_us / 1000,
                             " ms on '", state.files[i]->name, "'");
        return true;
      }
    }
    return false;
  };
  if (state.WaitUntil(Cap(state, own), seen_one)) {
    return Make(e, RESULT_FAIL, first);
  }
  if (own > state.deadline) {
    return Make(e, RESULT_TIMEOUT,
                "no event so far, when the scenario timed out");
  }
  return Make(e, RESULT_PASS,
              absl::StrCat("no event in ", state.MsSince(state.start), " ms"));
}

ExpectationResult ListenerEndedResult(RunState& state, const Expectation& e) {
  const ListenerEnded& c = e.listener_ended();
  const FileEntry& file = *state.files[state.file_by_name.at(c.file())];
  if (file.listener == nullptr) {
    return Make(e, RESULT_FAIL,
                absl::StrCat("the listener of '", c.file(), "' never started"));
  }
  const Clock::time_point own =
      state.steps_end + std::chrono::milliseconds(e.within_ms());
  const Clock::time_point until = Cap(state, own);
  const auto left = std::max(until - Clock::now(), Clock::duration::zero());
  const bool ended = file.listener->WaitForEnd(absl::FromChrono(left));
  const uint64_t ms = state.MsSince(state.steps_end);
  if (!ended) {
    if (own > state.deadline) {
      return Make(e, RESULT_TIMEOUT,
                  "still running when the scenario timed out");
    }
    return Make(e, RESULT_FAIL,
                absl::StrCat("still running after ", ms, " ms"));
  }
  const Listener::EndReason reason = file.listener->end_reason();
  const char* how = reason == Listener::EndReason::kRemoved ? "on removal"
                    : reason == Listener::EndReason::kEof   ? "by EOF"
                    : reason == Listener::EndReason::kError ? "by an error"
                                                            : "by Stop()";
  const bool ok = !c.on_removal() || reason == Listener::EndReason::kRemoved;
  return Make(e, ok ? RESULT_PASS : RESULT_FAIL,
              absl::StrCat("ended ", how, ok ? "" : " (want on removal)",
                           " after ", ms, " ms"));
}

}  // namespace

ExpectationResult CheckExpectation(RunState& state, const Expectation& e) {
  switch (e.check_case()) {
    case Expectation::kEventsSeen:
      return Decide(state, e,
                    [&] { return EventsSeenVerdict(state, e.events_seen()); });
    case Expectation::kAllHealthy: {
      std::vector<size_t> files;
      for (const std::string& name : e.all_healthy().files()) {
        files.push_back(state.file_by_name.at(name));
      }
      return Decide(state, e, [&] {
        Verdict v;
        v.holds = AllHealthy(state, files, /*restartable_only=*/false, &v.seen,
                             &v.detail);
        return v;
      });
    }
    case Expectation::kRestarts:
      return Decide(state, e,
                    [&] { return RestartsVerdict(state, e.restarts()); });
    case Expectation::kNoEventFor:
      return NoEventForResult(state, e);
    case Expectation::kLatency:
      return Decide(state, e,
                    [&] { return LatencyVerdict(state, e.latency()); });
    case Expectation::kVmState:
      if (e.vm_state().outcome() == VM_OUTCOME_BANNED &&
          state.env.observer == nullptr) {
        return Make(e, RESULT_SKIP,
                    "BANNED needs the device's view of the VM (no UAPI "
                    "shows it, and this environment has no VM observer)");
      }
      return Decide(state, e,
                    [&] { return VmStateVerdict(state, e.vm_state()); });
    case Expectation::kListenerEnded:
      return ListenerEndedResult(state, e);
    case Expectation::CHECK_NOT_SET:
      break;
  }
  return Make(e, RESULT_FAIL, "no check set");
}

}  // namespace xehil::scenario_internal
