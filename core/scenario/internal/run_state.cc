#include "core/scenario/internal/run_state.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

namespace xehil::scenario_internal {
namespace {

constexpr uint32_t kDefaultTimeoutMs = 30000;

Clock::time_point DeadlineFor(const Scenario& scenario, Clock::time_point t) {
  const uint32_t ms =
      scenario.timeout_ms() == 0 ? kDefaultTimeoutMs : scenario.timeout_ms();
  return t + std::chrono::milliseconds(ms);
}

// What in the engine's stats changes when its worker finishes something.
using Progression = std::tuple<uint64_t, uint64_t, uint64_t, uint64_t, uint64_t,
                               uint64_t, uint64_t, uint64_t>;
Progression ProgressOf(const RecoveryEngine::Stats& s) {
  return {s.processed,       s.restarts_tried,    s.restarts_succeeded,
          s.restarts_failed, s.restarts_benign,   s.hook_failures,
          s.reconciles,      s.reconcile_restarts};
}

SeenEvent ToSeen(const WatchEvent& event) {
  SeenEvent seen;
  seen.text = DescribeEvent(event);
  std::visit(
      [&seen](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, VmError>) {
          seen.type = EVENT_TYPE_VM_ERR;
          seen.vm_id = e.vm_id;
          seen.error = e.error;
        } else if constexpr (std::is_same_v<T, Lost>) {
          seen.type = EVENT_TYPE_LOST;
        } else if constexpr (std::is_same_v<T, Removed>) {
          seen.type = EVENT_TYPE_REMOVED;
        } else {
          seen.type = EVENT_TYPE_UNKNOWN;
        }
      },
      event);
  return seen;
}

}  // namespace

RunState::RunState(const Scenario& scenario, RunEnvironment& env,
                   const RunOptions& options)
    : scenario(scenario),
      env(env),
      options(options),
      start(Clock::now()),
      deadline(DeadlineFor(scenario, start)),
      setup_end(start),
      steps_end(start) {}

RunState::~RunState() { Teardown(); }

uint64_t RunState::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                               start)
      .count();
}

uint64_t RunState::MsSince(Clock::time_point t) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t)
      .count();
}

void RunState::AddTimeline(TimelineEntry entry) {
  absl::MutexLock lock(&mu_);
  if (timeline_.size() >= kMaxTimeline) {
    timeline_truncated_ = true;
    return;
  }
  TimelineRow row;
  row.t_us = entry.t_us();
  row.vm_id = entry.vm_id();
  row.error = entry.error();
  row.file = InternLocked(entry.file());
  row.kind = InternLocked(entry.kind());
  row.detail = std::move(*entry.mutable_detail());
  timeline_.push_back(std::move(row));
}

uint32_t RunState::InternLocked(const std::string& text) {
  auto it = intern_index_.find(text);
  if (it != intern_index_.end()) return it->second;
  const uint32_t index = static_cast<uint32_t>(interned_.size());
  interned_.push_back(text);
  intern_index_.emplace(text, index);
  return index;
}

VmEntry& RunState::VmNamed(const std::string& name) {
  if (vm_order_.size() != vms.size()) {
    vm_order_.resize(vms.size());
    for (size_t i = 0; i < vms.size(); ++i) {
      vm_order_[i] = static_cast<uint32_t>(i);
    }
    std::sort(
        vm_order_.begin(), vm_order_.end(),
        [this](uint32_t a, uint32_t b) { return vms[a].name < vms[b].name; });
  }
  auto it = std::lower_bound(
      vm_order_.begin(), vm_order_.end(), name,
      [this](uint32_t i, const std::string& n) { return vms[i].name < n; });
  if (it == vm_order_.end() || vms[*it].name != name) {
    // Validation rules this out; a clear crash beats a wrong VM.
    std::fprintf(stderr, "xehil: no VM named '%s' in the run\n", name.c_str());
    std::abort();
  }
  return vms[*it];
}

void RunState::Emit(Progress::Kind kind, std::string text, Result result) {
  Progress progress;
  progress.kind = kind;
  progress.text = std::move(text);
  progress.result = result;
  Emit(std::move(progress));
}

void RunState::Emit(Progress progress) {
  if (!options.on_progress) return;
  progress.t_us = NowUs();
  absl::MutexLock lock(&progress_mu_);
  options.on_progress(progress);
}

void RunState::RecordEvent(size_t file, const std::string& file_name,
                           const WatchEvent& event) {
  SeenEvent seen = ToSeen(event);
  seen.t_us = NowUs();
  TimelineEntry entry;
  entry.set_t_us(seen.t_us);
  entry.set_file(file_name);
  entry.set_kind("event");
  entry.set_detail(seen.text);
  entry.set_vm_id(seen.vm_id);
  entry.set_error(seen.error);
  const std::string line = absl::StrCat("event '", file_name, "': ", seen.text);
  AddTimeline(std::move(entry));
  {
    absl::MutexLock lock(&mu_);
    events_[file].push_back(std::move(seen));
    ++generation_;
  }
  Progress progress;
  progress.kind = Progress::Kind::kEvent;
  progress.text = line;
  progress.event = event;
  progress.file = file_name;
  Emit(std::move(progress));
}

void RunState::Notify() {
  absl::MutexLock lock(&mu_);
  ++generation_;
}

std::vector<SeenEvent> RunState::EventsOf(size_t file) const {
  absl::MutexLock lock(&mu_);
  auto it = events_.find(file);
  return it == events_.end() ? std::vector<SeenEvent>() : it->second;
}

std::vector<TimelineEntry> RunState::Timeline() const {
  absl::MutexLock lock(&mu_);
  std::vector<TimelineEntry> out;
  out.reserve(timeline_.size() + 1);
  for (const TimelineRow& row : timeline_) {
    TimelineEntry& entry = out.emplace_back();
    entry.set_t_us(row.t_us);
    entry.set_file(interned_[row.file]);
    entry.set_kind(interned_[row.kind]);
    entry.set_detail(row.detail);
    entry.set_vm_id(row.vm_id);
    entry.set_error(row.error);
  }
  if (timeline_truncated_) {
    TimelineEntry note;
    note.set_t_us(out.empty() ? 0 : out.back().t_us());
    note.set_kind("note");
    note.set_detail(
        absl::StrCat("timeline truncated after ", kMaxTimeline, " entries"));
    out.push_back(std::move(note));
  }
  return out;
}

bool RunState::WaitUntil(Clock::time_point until,
                         const std::function<bool()>& holds) {
  for (;;) {
    uint64_t seen_generation;
    {
      absl::MutexLock lock(&mu_);
      seen_generation = generation_;
    }
    if (holds()) return true;
    bool changed;
    {
      absl::MutexLock lock(&mu_);
      auto moved_on = [&] {
        mu_.AssertReaderHeld();
        return generation_ != seen_generation;
      };
      changed = mu_.AwaitWithTimeout(absl::Condition(&moved_on),
                                     absl::FromChrono(until - Clock::now()));
    }
    if (!changed) return holds();
  }
}

void RunState::SleepUntil(Clock::time_point until) {
  // Nothing makes this condition true: only time ends the wait.
  static constexpr bool kNever = false;
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&kNever),
                       absl::FromChrono(until - Clock::now()));
}

absl::Status RunState::WatchEngine(FileEntry& entry) {
  RecoveryEngine* engine = entry.engine.get();
  // Taken here, not on the new thread: progress made before that thread gets
  // to run must still count as a change.
  const Progression initial = ProgressOf(engine->counters());
  try {
    entry.engine_watcher = std::thread([this, engine, initial] {
      constexpr auto kSlice = std::chrono::hours(1);
      Progression last = initial;
      while (!stopping_.load()) {
        Progression next = last;
        const Clock::time_point began = Clock::now();
        const bool changed = engine->WaitForCounters(
            [&](const RecoveryEngine::Stats& s) {
              next = ProgressOf(s);
              return next != last;
            },
            kSlice);
        if (!changed) {
          // Early false: the engine stopped. Otherwise a quiet hour: go on.
          if (Clock::now() - began < kSlice) break;
          continue;
        }
        last = next;
        Notify();
      }
    });
  } catch (const std::system_error& error) {
    return ErrnoToStatus(
        -error.code().value(),
        absl::StrCat("starting the engine watcher of '", entry.name, "'"));
  }
  return absl::OkStatus();
}

absl::Status RunState::StartListener(size_t index) {
  FileEntry& entry = *files[index];
  if (entry.listener != nullptr || !entry.pending_pipe.has_value()) {
    return absl::OkStatus();
  }
  NotificationPipe pipe = std::move(*entry.pending_pipe);
  entry.pending_pipe.reset();
  RecoveryEngine* engine = entry.engine.get();
  absl::StatusOr<std::unique_ptr<Listener>> listener = Listener::Start(
      std::move(pipe),
      [this, index, engine, name = entry.name](const WatchEvent& e) {
        engine->Post(e);
        RecordEvent(index, name, e);
      });
  if (!listener.ok()) return listener.status();
  entry.listener = *std::move(listener);
  TimelineEntry note;
  note.set_t_us(NowUs());
  note.set_file(entry.name);
  note.set_kind("note");
  note.set_detail("listener started");
  AddTimeline(std::move(note));
  return absl::OkStatus();
}

void RunState::Teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  stopping_.store(true);
  // Listeners first: their callbacks post to the engines.
  for (auto& file : files) {
    if (file->listener != nullptr) file->listener->Stop();
  }
  for (auto& file : files) {
    if (file->engine != nullptr) file->engine->Stop();
    if (file->engine_watcher.joinable()) file->engine_watcher.join();
  }
  for (auto& file : files) {
    file->listener.reset();
    file->pending_pipe.reset();
    file->engine.reset();
    file->xe.reset();
    if (file->backend != nullptr) file->backend->Close();
  }
  for (auto& [label, lease] : leases) {
    if (lease != nullptr) lease->Release().IgnoreError();
  }
  leases.clear();
  control_xe.reset();
  control.reset();
}

}  // namespace xehil::scenario_internal
