// RunState: everything one scenario run holds — the open files with their
// XeDevice, recovery engine and listener, the VMs by name, pressure leases,
// the events each listener delivered, the timeline — plus the one condition
// variable every wait of the runner sleeps on. Listener callbacks and engine
// progress bump a generation counter and notify it, so the runner's waits
// (steps and expectations) wake exactly when something changed.
//
// Threads: the runner thread owns the structure (files, VMs, leases); the
// listener threads call RecordEvent; each engine has a watcher thread that
// blocks in RecoveryEngine::WaitFor and calls Notify on progress; engines
// call Emit/AddTimeline through ObservingPolicy. Teardown() stops and joins
// all of them (listeners first: they post to the engines).
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_RUN_STATE_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_RUN_STATE_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/device/xe_device.h"
#include "core/pressure/pressure_lease.h"
#include "core/recovery/recovery_engine.h"
#include "core/scenario/internal/closable_backend.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/run_options.h"
#include "core/watch/events.h"
#include "core/watch/listener.h"
#include "proto/scenario.pb.h"

namespace xehil::scenario_internal {

using Clock = std::chrono::steady_clock;

// An event a file's listener delivered.
struct SeenEvent {
  EventType type = EVENT_TYPE_UNSPECIFIED;
  uint32_t vm_id = 0;
  int32_t error = 0;
  uint64_t t_us = 0;
  std::string text;
};

struct FileEntry {
  std::string name;
  const File* spec = nullptr;
  std::unique_ptr<ClosableBackend> backend;
  uint64_t client_id = 0;  // how the environment's capabilities name it
  std::unique_ptr<XeDevice> xe;
  std::unique_ptr<RecoveryEngine> engine;  // files with a watch
  std::thread engine_watcher;
  std::optional<NotificationPipe> pending_pipe;  // a late listener's pipe
  std::unique_ptr<Listener> listener;
  bool closed = false;  // by a close_file step
};

struct VmEntry {
  std::string name;
  size_t file = 0;  // index in RunState::files
  uint32_t vm_id = 0;
  uint32_t flags = 0;      // DRM_XE_VM_CREATE_FLAG_*
  bool destroyed = false;  // by a destroy_vm step
};

class RunState {
 public:
  RunState(const Scenario& scenario, RunEnvironment& env,
           const RunOptions& options);
  ~RunState();  // Teardown()
  RunState(const RunState&) = delete;
  RunState& operator=(const RunState&) = delete;

  const Scenario& scenario;
  RunEnvironment& env;
  const RunOptions& options;
  const Clock::time_point start;
  const Clock::time_point deadline;  // start + timeout
  Clock::time_point setup_end;
  Clock::time_point steps_end;

  // Runner thread only.
  std::vector<std::unique_ptr<FileEntry>> files;
  std::vector<VmEntry> vms;
  std::map<std::string, size_t> file_by_name;
  std::unique_ptr<KernelBackend> control;  // a file for device queries
  std::unique_ptr<XeDevice> control_xe;
  std::vector<MemRegion> regions;
  std::vector<EngineInfo> engines;
  std::map<std::string, std::unique_ptr<PressureLease>> leases;
  std::set<std::string> skipped_pressure;  // labels of skipped injections
  std::vector<std::string> skipped_steps;

  // The VM named `name` (validation made sure it exists). Runner thread.
  VmEntry& VmNamed(const std::string& name);

  uint64_t NowUs() const;
  uint64_t MsSince(Clock::time_point t) const;

  // Thread-safe.
  void AddTimeline(TimelineEntry entry);
  void Emit(Progress::Kind kind, std::string text,
            Result result = RESULT_UNSPECIFIED);
  void Emit(Progress progress);  // t_us is set here
  // From file `file`'s listener thread: records, timelines, notifies.
  void RecordEvent(size_t file, const std::string& file_name,
                   const WatchEvent& event);
  void Notify();
  std::vector<SeenEvent> EventsOf(size_t file) const;
  std::vector<TimelineEntry> Timeline() const;

  // Waits until `holds()` (called without any RunState lock) returns true
  // or `until` passes, waking on Notify(). Returns holds()'s last value.
  bool WaitUntil(Clock::time_point until, const std::function<bool()>& holds);
  // Waits until `until` (nothing to wait for but time).
  void SleepUntil(Clock::time_point until);

  // Starts the thread that turns `entry`'s engine progress into Notify().
  // A thread that cannot be created is the errno's status (e.g. -EAGAIN).
  absl::Status WatchEngine(FileEntry& entry);
  // Starts the listener of `files[index]` on its pending pipe.
  absl::Status StartListener(size_t index);

  // Stops listeners, engines and watchers, closes files, releases leases.
  void Teardown();

 private:
  static constexpr size_t kMaxTimeline = 10000;

  // A TimelineEntry as kept during the run: file and kind are indices into
  // the interned strings, so an entry costs a fraction of the message.
  struct TimelineRow {
    uint64_t t_us = 0;
    uint32_t vm_id = 0;
    int32_t error = 0;
    uint32_t file = 0;
    uint32_t kind = 0;
    std::string detail;
  };
  uint32_t InternLocked(const std::string& text);

  // Indices of `vms` sorted by name, built on the first VmNamed() after the
  // setup added VMs: 4 bytes a VM where a name map would cost about 90.
  std::vector<uint32_t> vm_order_;

  mutable std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  uint64_t generation_ = 0;
  std::vector<TimelineRow> timeline_;
  std::vector<std::string> interned_;
  std::map<std::string, uint32_t, std::less<>> intern_index_;
  bool timeline_truncated_ = false;
  std::map<size_t, std::vector<SeenEvent>> events_;

  std::mutex progress_mu_;  // one on_progress call at a time
  std::atomic<bool> stopping_{false};
  bool torn_down_ = false;
};

// The run's deadline for a wait that wants `t`: the earlier of the two.
inline Clock::time_point Cap(const RunState& state, Clock::time_point t) {
  return t < state.deadline ? t : state.deadline;
}

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_RUN_STATE_H_
