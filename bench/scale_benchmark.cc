// How the simulator, the recovery engine and the scenario runner scale with
// the number of VMs: each figure at 1,000 and 10,000 VMs, so the ratio shows
// whether the cost is linear (10x the VMs, about 10x the time).
//  - setup: a scenario's setup of N restartable LR VMs with one 1 MiB VRAM BO
//    each on one watched file (no steps, no expectations), and the heap it
//    holds per VM at the end of the setup (malloc's bytes in use);
//  - pressure: one injection of all of VRAM over N VMs (every BO evicted,
//    every rebind queued), the time the device lock is held;
//  - restarts: N paused VMs, N VM_ERRs posted to a RecoveryEngine, until all
//    N are restarted (per-VM time);
//  - overflow: the ring_overflow_reconcile scenario with N VMs (every VM
//    fails at once into a 32-note ring nobody reads, one loss record, a
//    reconcile restarts them all, then "all healthy"), end to end, and the
//    heap held per VM at its peak (the engines know every VM by then).
//
// Each figure is the run of one iteration, repeated 5 times (median shown
// next to mean, stddev and cv); cpu_ms is the CPU time of all the process's
// threads over the same interval.
//
//   bazel run -c opt //bench:scale_benchmark
#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "core/device/xe_device.h"
#include "core/recovery/recovery_engine.h"
#include "core/scenario/loader.h"
#include "core/scenario/runner.h"
#include "core/watch/events.h"
#include "sim/device.h"
#include "sim/sim_backend.h"

namespace xehil {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint64_t kBoBytes = 1 << 20;

// Heap bytes in use, chunks malloc got by mmap included.
uint64_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// Page faults of the process so far: first touches of memory the heap got
// from the kernel.
long MinorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// CPU time of every thread of the process: the work done, which a machine
// busy with other jobs does not inflate the way it inflates wall time.
double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

// N restartable LR VMs with one VRAM BO each on the watched file "fleet".
std::string FleetSetup(int vms, const std::string& watch) {
  return absl::StrCat(R"pb(
                        device_profile: "dg2-16g"
                        recovery { initial_backoff_us: 1000 max_backoff_ms: 20 }
                        timeout_ms: 600000
                        setup { files { name: "fleet" watch {)pb",
                      watch, R"pb(}
                                  vms {
          name: "vm"
          count: )pb",
                      vms, R"pb(
                        flags: VM_FLAG_LR_MODE
                        flags: VM_FLAG_RESTARTABLE
                        bos { size_bytes:)pb",
                      kBoBytes, R"pb(                                                                                                                                                                                                                                                                                                         placement: PLACEMENT_VRAM_ONLY }
                                                                                                                                                                                                                                                                                                                                              }
      }
    }
  )pb");
}

// ring_overflow_reconcile.textproto with `vms` VMs.
std::string OverflowScenario(int vms) {
  return absl::StrCat(
      "name: \"overflow\"\n",
      FleetSetup(vms, "watch_id: 1 ring_notes: 1 start_after_step: 1"),
      R"pb(
        steps {
          fault {
            file: "fleet"
            fail_rebinds {
              count: 1
              error: ERRNO_ENOSPC
              trigger: true
              all_vms_of_file: true
            }
          }
        }
        steps { wait_ms: 50 }
        steps { wait_healthy_ms: 600000 }
        expectations {
          name: "the ring held 32"
          events_seen {
            file: "fleet"
            type: EVENT_TYPE_VM_ERR
            count { min: 32 max: 32 }
          }
        }
        expectations {
          name: "one loss"
          events_seen {
            file: "fleet"
            type: EVENT_TYPE_LOST
            count { min: 1 max: 1 }
          }
        }
        expectations { name: "one reconcile"
                       restarts { file: "fleet"
                                  reconciles { min: 1 max: 1 }
                                  succeeded { min:)pb",
      vms, " max: ", vms, R"pb(}
                               failed { max: 0 }
          }
        }
        expectations { name: "all healthy" within_ms: 1000 all_healthy {} }
      )pb");
}

Scenario Parse(const std::string& text, benchmark::State& state) {
  absl::StatusOr<Scenario> s = ParseScenarioText(text, "scale");
  if (!s.ok()) state.SkipWithError(s.status().ToString().c_str());
  return s.value_or(Scenario());
}

void BM_Setup(benchmark::State& state) {
  const int vms = static_cast<int>(state.range(0));
  const Scenario scenario = Parse(
      absl::StrCat("name: \"setup\"\n", FleetSetup(vms, "watch_id: 1")), state);
  for (auto _ : state) {
    const uint64_t before = HeapInUse();
    const Clock::time_point start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    double seconds = 0, cpu = 0;
    uint64_t held = 0;
    RunOptions options;
    options.on_progress = [&](const Progress& p) {
      if (p.kind != Progress::Kind::kSetup) return;
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      cpu = ProcessCpuSeconds() - cpu_start;
      held = HeapInUse() - before;
    };
    absl::StatusOr<Report> report = RunScenarioOnSim(scenario, options);
    if (!report.ok() || report->result() != RESULT_PASS) {
      state.SkipWithError("the setup scenario did not pass");
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["cpu_ms"] = cpu * 1e3;
    state.counters["bytes_per_vm"] = static_cast<double>(held) / vms;
  }
  state.counters["vms"] = vms;
}

// A simulated dg2-16g with one file of `vms` restartable LR VMs, each with a
// 1 MiB VRAM BO bound.
struct Fleet {
  std::shared_ptr<sim::Device> device = *sim::Device::Create("dg2-16g");
  std::unique_ptr<sim::SimBackend> file = device->Open();
  XeDevice xe{*file};
  std::vector<uint32_t> ids;

  bool Create(int vms) {
    for (int i = 0; i < vms; ++i) {
      absl::StatusOr<uint32_t> vm = xe.CreateVm(
          DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE);
      absl::StatusOr<uint32_t> bo =
          vm.ok() ? xe.CreateBo(kBoBytes, 1u << 1, *vm) : vm.status();
      if (!bo.ok() || !xe.BindBo(*vm, *bo, 0, 1 << 20, kBoBytes).ok()) {
        return false;
      }
      ids.push_back(*vm);
    }
    return true;
  }
};

// One injection of all of VRAM over N VMs: every BO is evicted and every
// VM's rebind queued, under the device lock.
void BM_PressureInjection(benchmark::State& state) {
  const int vms = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Fleet fleet;
    if (!fleet.Create(vms)) {
      state.SkipWithError("could not create the VMs");
      return;
    }
    const Clock::time_point start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    const absl::Status injected =
        fleet.device->InjectPressure(1, uint64_t{16} << 30);
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = ProcessCpuSeconds() - cpu_start;
    fleet.device->WaitIdle();  // the rebinds it queued, outside the figure
    if (!injected.ok()) {
      state.SkipWithError(injected.ToString().c_str());
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["cpu_ms"] = cpu * 1e3;
    state.counters["evictions"] =
        static_cast<double>(fleet.device->counters().evictions);
  }
  state.counters["vms"] = vms;
}

void BM_Restarts(benchmark::State& state) {
  const int vms = static_cast<int>(state.range(0));
  for (auto _ : state) {
    const uint64_t before = HeapInUse();
    Fleet fleet;
    if (!fleet.Create(vms)) {
      state.SkipWithError("could not create the VMs");
      return;
    }
    const uint64_t device_bytes = HeapInUse() - before;
    sim::Device* device = fleet.device.get();
    const sim::FileId file = fleet.file->file_id();
    for (uint32_t vm : fleet.ids) {
      if (!device->FailNextRebinds(file, vm, 1, -ENOSPC).ok() ||
          !device->TriggerRebind(file, vm).ok()) {
        state.SkipWithError("could not pause a VM");
        return;
      }
    }
    device->WaitIdle();  // every VM paused
    XeDevice& xe = fleet.xe;
    const std::vector<uint32_t>& ids = fleet.ids;
    const long faults_before = MinorFaults();
    std::unique_ptr<RecoveryEngine> engine = *RecoveryEngine::Start(xe);
    const Clock::time_point start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    for (uint32_t id : ids) engine->Post(VmError{id, -ENOSPC, 0});
    const bool done = engine->WaitForCounters(
        [&](const RecoveryEngine::Stats& s) {
          return s.restarts_succeeded >= static_cast<uint64_t>(vms);
        },
        std::chrono::minutes(10));
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = ProcessCpuSeconds() - cpu_start;
    const uint64_t all_bytes = HeapInUse() - before;
    const long faults = MinorFaults() - faults_before;
    engine->Stop();
    if (!done) {
      state.SkipWithError("not every VM was restarted");
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["cpu_ms"] = cpu * 1e3;
    state.counters["us_per_vm"] = seconds * 1e6 / vms;
    state.counters["page_faults"] = static_cast<double>(faults);
    // The simulator and XeDevice, then what the engine adds once it knows
    // every VM.
    state.counters["device_bytes_per_vm"] =
        static_cast<double>(device_bytes) / vms;
    state.counters["engine_bytes_per_vm"] =
        static_cast<double>(all_bytes - device_bytes) / vms;
  }
  state.counters["vms"] = vms;
}

void BM_OverflowScenario(benchmark::State& state) {
  const int vms = static_cast<int>(state.range(0));
  const Scenario scenario = Parse(OverflowScenario(vms), state);
  for (auto _ : state) {
    const uint64_t before = HeapInUse();
    uint64_t peak = 0;
    RunOptions options;
    options.on_progress = [&](const Progress& p) {
      if (p.kind == Progress::Kind::kExpectation ||
          p.kind == Progress::Kind::kSetup) {
        peak = std::max(peak, HeapInUse() - before);
      }
    };
    const Clock::time_point start = Clock::now();
    const double cpu_start = ProcessCpuSeconds();
    absl::StatusOr<Report> report = RunScenarioOnSim(scenario, options);
    const double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = ProcessCpuSeconds() - cpu_start;
    if (!report.ok() || report->result() != RESULT_PASS) {
      state.SkipWithError(
          report.ok()
              ? absl::StrCat("overflow scenario: ", report->reason()).c_str()
              : report.status().ToString().c_str());
      return;
    }
    state.SetIterationTime(seconds);
    state.counters["cpu_ms"] = cpu * 1e3;
    state.counters["bytes_per_vm"] = static_cast<double>(peak) / vms;
  }
  state.counters["vms"] = vms;
}

constexpr int kRepetitions = 9;

// The least disturbed of the runs: on a busy machine the longer 10,000-VM
// runs are preempted more often (and find their caches cold after), so
// next to the median the ratio of the fastest runs is shown too.
double Min(const std::vector<double>& v) {
  return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
}

BENCHMARK(BM_Setup)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(kRepetitions)
    ->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Restarts)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(kRepetitions)
    ->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PressureInjection)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(kRepetitions)
    ->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_OverflowScenario)
    ->Arg(1000)
    ->Arg(10000)
    ->Iterations(1)
    ->Repetitions(kRepetitions)
    ->ComputeStatistics("min", Min)
    ->ReportAggregatesOnly(true)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// The console output, then what 10x the VMs costs for each figure: the
// ratio of the medians at 10,000 and 1,000 VMs, of the wall time and of the
// CPU time, with the machine's load average (other jobs stretch wall time).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      if (run.aggregate_name != "median" && run.aggregate_name != "min") {
        continue;
      }
      auto cpu = run.counters.find("cpu_ms");
      figures_[run.aggregate_name][run.run_name.function_name]
              [run.run_name.args] = {
                  run.GetAdjustedRealTime(),
                  cpu == run.counters.end() ? 0.0 : cpu->second.value};
    }
  }

  void PrintRatios() const {
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    absl::PrintF(
        "\n10x the VMs costs (10,000 VMs over 1,000, %d runs each; load "
        "average %.2f %.2f %.2f):\n",
        kRepetitions, load[0], load[1], load[2]);
    auto find = [this](const std::string& statistic) {
      auto it = figures_.find(statistic);
      return it == figures_.end() ? nullptr : &it->second;
    };
    const Figures* medians = find("median");
    const Figures* mins = find("min");
    if (medians == nullptr) return;
    for (const auto& [name, by_vms] : *medians) {
      const auto [small_ms, small_cpu] = At(by_vms, "1000");
      const auto [large_ms, large_cpu] = At(by_vms, "10000");
      if (small_ms <= 0 || large_ms <= 0) continue;
      absl::PrintF("  %-22s median: wall %8.3f -> %8.3f ms %5.1fx, cpu %5.1fx",
                   name, small_ms, large_ms, large_ms / small_ms,
                   small_cpu > 0 ? large_cpu / small_cpu : 0.0);
      if (mins != nullptr && mins->count(name) != 0) {
        const auto [min_small_ms, min_small_cpu] = At(mins->at(name), "1000");
        const auto [min_large_ms, min_large_cpu] = At(mins->at(name), "10000");
        if (min_small_ms > 0 && min_small_cpu > 0) {
          absl::PrintF("   fastest: wall %5.1fx, cpu %5.1fx",
                       min_large_ms / min_small_ms,
                       min_large_cpu / min_small_cpu);
        }
      }
      absl::PrintF("\n");
    }
  }

 private:
  // VMs -> (wall ms, CPU ms)
  using ByVms = std::map<std::string, std::pair<double, double>>;
  // function name -> ByVms
  using Figures = std::map<std::string, ByVms>;

  static std::pair<double, double> At(const ByVms& by_vms,
                                      const std::string& vms) {
    auto it = by_vms.find(vms);
    return it == by_vms.end() ? std::pair<double, double>{0, 0} : it->second;
  }

  // "median" / "min" -> Figures
  std::map<std::string, Figures> figures_;
};

}  // namespace
}  // namespace xehil

int main(int argc, char** argv) {
  // Keep freed heap in the process: otherwise a repetition at 10,000 VMs
  // pays page faults for the memory the previous one gave back while one at
  // 1,000 reuses its heap, and the ratio measures the kernel's page zeroing.
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  xehil::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
