// xehil-lab's fan-out figures: how long one round of GetInfo, and of
// AcquirePressure (sim provider, 1 MiB, short TTL; released after each
// round, outside the timing), takes across 1, 8 and 64 loopback agents.
// Agents are in-process (tools/agent/testing), so agents and controller
// share this machine's cores; calls go through the controller's own code:
// inventory, LabHosts, FanOut with --parallel's default, retries.
//
//   bazel run -c opt //bench:lab_fanout_benchmark
//
// Counters: p50_us / p99_us of one round (all hosts answered), hosts.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "tools/agent/testing/agent_test_util.h"
#include "tools/lab/fanout.h"
#include "tools/lab/lab_hosts.h"

namespace xehil::lab {
namespace {

struct Lab {
  std::vector<std::unique_ptr<agent::testing::InProcessAgent>> agents;
  std::unique_ptr<LabHosts> hosts;
};

std::map<int, std::unique_ptr<Lab>>& Labs() {
  static auto* labs = new std::map<int, std::unique_ptr<Lab>>();
  return *labs;
}

// `n` agents and an inventory naming them, made once per size.
Lab* LabOf(int n) {
  std::unique_ptr<Lab>& lab = Labs()[n];
  if (lab != nullptr) return lab.get();
  lab = std::make_unique<Lab>();
  const char* tmp = std::getenv("TMPDIR");
  const std::string path =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/lab_fanout_benchmark_",
                   getpid(), "_", n, ".textproto");
  std::ofstream inventory(path, std::ios::trunc);
  for (int i = 0; i < n; ++i) {
    auto agent = std::make_unique<agent::testing::InProcessAgent>();
    if (!agent->Start().ok()) return nullptr;
    inventory << "hosts { name: \"sim-" << i << "\" address: \""
              << agent->address() << "\" }\n";
    lab->agents.push_back(std::move(agent));
  }
  inventory.close();
  LabOptions options;
  options.inventory_path = path;
  absl::StatusOr<std::unique_ptr<LabHosts>> hosts = LabHosts::Open(options);
  std::remove(path.c_str());
  if (!hosts.ok()) return nullptr;
  lab->hosts = *std::move(hosts);
  return lab.get();
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

void Report(benchmark::State& state, const std::vector<double>& us, int n) {
  state.counters["p50_us"] = Percentile(us, 0.50);
  state.counters["p99_us"] = Percentile(us, 0.99);
  state.counters["hosts"] = n;
}

void BM_GetInfoFanout(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Lab* lab = LabOf(n);
  if (lab == nullptr) return state.SkipWithError("could not start agents");
  LabHosts& hosts = *lab->hosts;
  std::vector<double> us;
  for (auto _ : state) {
    const absl::Time start = absl::Now();
    std::vector<absl::Status> results = FanOut<absl::Status>(
        hosts.size(), hosts.fanout().parallel, [&](size_t i) {
          AgentInfo info;
          return hosts.Call(i, &Agent::Stub::GetInfo, GetInfoRequest(), &info);
        });
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    for (const absl::Status& s : results) {
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    state.SetIterationTime(elapsed);
    us.push_back(elapsed * 1e6);
  }
  Report(state, us, n);
}

void BM_AcquirePressureFanout(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Lab* lab = LabOf(n);
  if (lab == nullptr) return state.SkipWithError("could not start agents");
  LabHosts& hosts = *lab->hosts;
  AcquirePressureRequest request;
  request.set_provider("sim");
  request.set_region_instance(1);
  request.set_bytes(1 << 20);
  request.set_ttl_ms(10000);
  request.set_note("lab_fanout_benchmark");
  std::vector<double> us;
  for (auto _ : state) {
    std::vector<Lease> leases(hosts.size());
    const absl::Time start = absl::Now();
    std::vector<absl::Status> results = FanOut<absl::Status>(
        hosts.size(), hosts.fanout().parallel, [&](size_t i) {
          return hosts.Call(i, &Agent::Stub::AcquirePressure, request,
                            &leases[i]);
        });
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    // Released after every round, outside the timing.
    ForEachBounded(hosts.size(), hosts.fanout().parallel, [&](size_t i) {
      ReleasePressureRequest release;
      release.set_lease_id(leases[i].lease_id());
      Lease ended;
      (void)hosts.Call(i, &Agent::Stub::ReleasePressure, release, &ended);
    });
    for (const absl::Status& s : results) {
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    state.SetIterationTime(elapsed);
    us.push_back(elapsed * 1e6);
  }
  Report(state, us, n);
}

BENCHMARK(BM_GetInfoFanout)
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_AcquirePressureFanout)
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace xehil::lab

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // Agents stop before the process's static teardown.
  xehil::lab::Labs().clear();
  return 0;
}
