#include "tools/lab/report/sample_lab_run.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xehil::lab {
namespace {

// A small fixed-seed generator: the same run every time, on every platform.
class Lcg {
 public:
  explicit Lcg(uint64_t seed)
      : state_(seed * 2862933555777941757ULL + 3037000493ULL) {}
  uint64_t Next(uint64_t bound) {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state_ >> 33) % bound;
  }

 private:
  uint64_t state_;
};

void Add(Report& r, uint64_t t_us, const char* kind, std::string detail,
         uint32_t vm = 0, int32_t error = 0) {
  TimelineEntry* e = r.add_timeline();
  e->set_t_us(t_us);
  e->set_file("f0");
  e->set_kind(kind);
  e->set_detail(std::move(detail));
  e->set_vm_id(vm);
  e->set_error(error);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

Report SyntheticReport(const std::string& scenario, Result result,
                       int vm_errors, int losses, int fail_every,
                       uint64_t seed) {
  Lcg rng(seed);
  Report r;
  r.set_scenario(scenario);
  r.set_source(absl::StrCat("scenarios/", scenario, ".textproto"));
  r.set_policy("default");
  r.set_result(result);
  r.set_seed(seed);
  Add(r, 0, "step", "steps[0] inject_pressure 90% of VRAM");
  std::vector<double> latencies;
  uint64_t t = 2000;
  for (int i = 0; i < vm_errors; ++i) {
    t += 200 + rng.Next(3000);
    const uint32_t vm = 1 + static_cast<uint32_t>(rng.Next(4));
    Add(r, t, "event",
        absl::StrCat("VM_ERR vm=", vm, " error=-ENOMEM ts=", t * 1000,
                     " watch=1"),
        vm, -12);
    const uint64_t latency = 40 + rng.Next(rng.Next(10) == 0 ? 5000 : 200);
    latencies.push_back(static_cast<double>(latency));
    const bool fails = fail_every > 0 && (i + 1) % fail_every == 0;
    Add(r, t + latency, "restart",
        fails ? absl::StrCat("VM_RESTART vm ", vm,
                             ": -ENOMEM (Cannot allocate memory)")
              : absl::StrCat("VM_RESTART vm ", vm, ": ok"),
        vm, fails ? -12 : 0);
    r.mutable_restarts()->set_tried(r.restarts().tried() + 1);
    if (fails) {
      r.mutable_restarts()->set_failed(r.restarts().failed() + 1);
    } else {
      r.mutable_restarts()->set_succeeded(r.restarts().succeeded() + 1);
    }
  }
  for (int i = 0; i < losses; ++i) {
    Add(r, 2500 + rng.Next(std::max<uint64_t>(1, t)), "event", "LOST");
  }
  Add(r, t + 5000, "note", "all restartable VMs healthy");
  r.mutable_events()->set_vm_errors(vm_errors);
  r.mutable_events()->set_losses(losses);
  LatencySummary* l = r.mutable_latency();
  l->set_count(latencies.size());
  if (!latencies.empty()) {
    l->set_p50_us(Percentile(latencies, 0.50));
    l->set_p90_us(Percentile(latencies, 0.90));
    l->set_p99_us(Percentile(latencies, 0.99));
    l->set_max_us(*std::max_element(latencies.begin(), latencies.end()));
  }
  ExpectationResult* e = r.add_expectations();
  e->set_name("all VMs recovered");
  e->set_result(result == RESULT_PASS ? RESULT_PASS : result);
  e->set_message(absl::StrFormat("all_healthy: %d restarts, %d failed",
                                 r.restarts().tried(), r.restarts().failed()));
  if (result != RESULT_PASS) r.set_reason("1 of 1 expectations failed");
  r.set_duration_ms((t + 10000) / 1000);
  return r;
}

LabRun SampleLabRun() {
  LabRun run;
  run.set_started_unix_ms(1795442587123);  // 2026-11-23 14:03:07 UTC
  run.set_duration_ms(48210);
  run.set_inventory("lab/inventory.textproto");
  run.set_selector("gpu=xe");
  run.add_scenarios("scenarios/vram_pressure.textproto");
  run.add_scenarios("scenarios/rebind_failures.textproto");

  HostRun* a = run.add_hosts();
  a->set_host("xe-dg2-01");
  a->set_address("10.0.4.11:50051");
  a->add_labels("gpu=xe");
  a->add_labels("rack=a");
  a->set_backend("xe");
  a->set_device("Intel Arc A770 (DG2, 16 GiB VRAM)");
  a->set_attempts(1);
  a->set_duration_ms(21400);
  *a->add_reports() =
      SyntheticReport("vram-pressure-recovers", RESULT_PASS, 60, 0, 0, 1);
  *a->add_reports() =
      SyntheticReport("rebind-failures", RESULT_PASS, 25, 1, 0, 2);
  for (Report& r : *a->mutable_reports()) r.set_backend("xe");

  HostRun* b = run.add_hosts();
  b->set_host("sim <b> & \"co\"");
  b->set_address("10.0.4.12:50051");
  b->add_labels("gpu=sim");
  b->add_labels("rack=b & c");
  b->set_backend("sim");
  b->set_device("simulated dg2-16g <VRAM 16 GiB>");
  b->set_attempts(2);
  b->set_duration_ms(26800);
  Report fail =
      SyntheticReport("vram-pressure-recovers", RESULT_FAIL, 40, 3, 4, 3);
  fail.set_reason(
      "1 of 2 expectations failed: restarts <= 2 & \"no failures\"");
  ExpectationResult* e = fail.add_expectations();
  e->set_name("restarts <= 2 & \"no failures\"");
  e->set_result(RESULT_FAIL);
  e->set_message("restarts: failed 10 (want <= 2) after 250 ms");
  *b->add_reports() = fail;
  Report skip = SyntheticReport("rebind-failures", RESULT_SKIP, 0, 0, 0, 4);
  skip.set_reason("scripted faults need the simulator's <fault> hooks");
  skip.add_skipped_steps(
      "steps[1] (fault): scripted faults need the simulator");
  *b->add_reports() = skip;
  for (Report& r : *b->mutable_reports()) r.set_backend("sim");

  HostRun* c = run.add_hosts();
  c->set_host("xe-bmg-03");
  c->set_address("10.0.4.13:50051");
  c->add_labels("gpu=xe");
  c->add_labels("rack=c");
  c->set_attempts(3);
  c->set_error(
      "UNAVAILABLE: failed to connect to all addresses; last error: "
      "connect: Connection refused (111)");
  return run;
}

LabRun ManyHostsRun(int hosts, int reports_per_host) {
  LabRun run;
  run.set_started_unix_ms(1795442587123);
  run.set_duration_ms(60000);
  run.set_selector("all");
  for (int h = 0; h < hosts; ++h) {
    HostRun* host = run.add_hosts();
    host->set_host(absl::StrFormat("host-%03d", h));
    host->set_address(
        absl::StrFormat("10.1.%d.%d:50051", h / 200, h % 200 + 1));
    host->set_backend("sim");
    host->set_attempts(1);
    for (int i = 0; i < reports_per_host; ++i) {
      *host->add_reports() = SyntheticReport(absl::StrCat("scenario-", i),
                                             RESULT_PASS, 3, 0, 0, h * 131 + i);
    }
  }
  return run;
}

}  // namespace xehil::lab
