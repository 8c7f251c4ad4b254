#include "tools/lab/run_command.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "core/scenario/report_writer.h"

namespace xehil::lab {
namespace {

bool Failed(const Report& r) {
  return r.result() != RESULT_PASS && r.result() != RESULT_SKIP;
}

bool Shown(ScenarioProgress::Kind kind, const LabRunOptions& options) {
  if (options.quiet) return false;
  if (kind == ScenarioProgress::KIND_EVENT ||
      kind == ScenarioProgress::KIND_RESTART) {
    return options.verbose;
  }
  return true;
}

std::string ResultLine(const Report& r) {
  int passed = 0;
  for (const ExpectationResult& e : r.expectations()) {
    passed += e.result() == RESULT_PASS;
  }
  return absl::StrFormat("%s: %s (%d/%d checks, restarts %u/%u, %.2fs)%s",
                         r.scenario(), ResultName(r.result()), passed,
                         r.expectations_size(), r.restarts().succeeded(),
                         r.restarts().tried(), r.duration_ms() / 1e3,
                         r.reason().empty() ? "" : " " + r.reason());
}

// One RunScenario call. UNAVAILABLE is returned as such only when nothing
// was received, so that CallWithRetries repeats only runs that never began.
absl::Status RunOne(LabHosts& lab, HostConnection& conn,
                    const RunScenarioRequest& request,
                    const LabRunOptions& options, LinePrinter& out,
                    Report* report) {
  std::unique_ptr<grpc::ClientContext> context =
      conn.NewContext(lab.run_deadline());
  std::unique_ptr<grpc::ClientReader<RunScenarioUpdate>> reader =
      conn.stub().RunScenario(context.get(), request);
  RunScenarioUpdate update;
  bool received = false, have_report = false;
  while (reader->Read(&update)) {
    received = true;
    if (update.has_report()) {
      *report = update.report();
      have_report = true;
    } else if (Shown(update.progress().kind(), options)) {
      out.Host(conn.name(),
               absl::StrFormat("  %8.1fms  %s", update.progress().t_us() / 1e3,
                               update.progress().text()));
    }
  }
  absl::Status status = FromGrpc(reader->Finish());
  if (status.ok() && !have_report) {
    status = absl::DataLossError("the run ended without a report");
  }
  if (absl::IsUnavailable(status) && received) {
    // Mid-run: the run goes on (or went on) at the agent; not retried.
    status = absl::AbortedError(
        absl::StrCat("connection lost during the run: ", status.message()));
  }
  return status;
}

HostRun RunHost(LabHosts& lab, size_t index,
                const std::vector<ScenarioFile>& scenarios,
                const LabRunOptions& options, LinePrinter& out) {
  const absl::Time start = absl::Now();
  HostConnection& conn = lab.host(index);
  HostRun run;
  run.set_host(conn.name());
  run.set_address(conn.address());
  *run.mutable_labels() = conn.host().labels();
  int attempts = 0;
  AgentInfo info;
  absl::Status status = lab.Call(index, &Agent::Stub::GetInfo, GetInfoRequest(),
                                 &info, &attempts);
  run.set_attempts(static_cast<uint32_t>(attempts));
  const int total = static_cast<int>(scenarios.size()) * options.repeat;
  if (status.ok()) {
    run.set_backend(info.backend());
    run.set_device(info.device_description());
    for (int rep = 0; rep < options.repeat && status.ok(); ++rep) {
      for (size_t s = 0; s < scenarios.size() && status.ok(); ++s) {
        const ScenarioFile& file = scenarios[s];
        if (!options.quiet) {
          out.Host(conn.name(),
                   absl::StrFormat("[%d/%d] %s (%s)", run.reports_size() + 1,
                                   total, file.scenario.name(), file.source));
        }
        RunScenarioRequest request;
        *request.mutable_scenario() = file.scenario;
        request.set_source(file.source);
        request.set_seed(options.seed);
        request.set_repeat_index(static_cast<uint32_t>(rep));
        request.set_isolated_device(options.isolated_device);
        Report report;
        status = CallWithRetries(
            lab.fanout().retry,
            [&](int) {
              return RunOne(lab, conn, request, options, out, &report);
            },
            &attempts);
        run.set_attempts(run.attempts() + static_cast<uint32_t>(attempts));
        if (status.ok()) {
          out.Host(conn.name(), ResultLine(report));
          *run.add_reports() = std::move(report);
        } else {
          status = absl::Status(
              status.code(),
              absl::StrCat(file.scenario.name(), ": ", status.message()));
        }
      }
    }
  }
  if (!status.ok()) {
    run.set_error(
        absl::StrCat(CodeName(status.code()), ": ", status.message()));
    out.Host(conn.name(), absl::StrCat("error: ", run.error()));
  }
  run.set_duration_ms(
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::Now() - start)));
  return run;
}

}  // namespace

LabRun RunOnHosts(LabHosts& lab, const std::vector<ScenarioFile>& scenarios,
                  const LabRunOptions& options, LinePrinter& out) {
  const absl::Time start = absl::Now();
  LabRun run;
  run.set_started_unix_ms(absl::ToUnixMillis(start));
  run.set_inventory(lab.inventory_path());
  run.set_selector(lab.selector());
  for (const ScenarioFile& s : scenarios) run.add_scenarios(s.source);
  std::vector<HostRun> hosts = FanOut<HostRun>(
      lab.size(), lab.fanout().parallel,
      [&](size_t i) { return RunHost(lab, i, scenarios, options, out); });
  for (HostRun& h : hosts) *run.add_hosts() = std::move(h);
  run.set_duration_ms(
      static_cast<uint64_t>(absl::ToInt64Milliseconds(absl::Now() - start)));
  return run;
}

bool LabRunPassed(const LabRun& run) {
  for (const HostRun& h : run.hosts()) {
    if (!h.error().empty()) return false;
    for (const Report& r : h.reports()) {
      if (Failed(r)) return false;
    }
  }
  return run.hosts_size() > 0;
}

std::string FormatRunSummary(const LabRun& run) {
  size_t wh = 4, wa = 7;
  for (const HostRun& h : run.hosts()) {
    wh = std::max(wh, h.host().size());
    wa = std::max(wa, h.address().size());
  }
  const int w1 = static_cast<int>(wh), w2 = static_cast<int>(wa);
  std::string out =
      absl::StrFormat("\n%-*s  %-*s  %-6s  %4s  %4s  %4s  %4s  %5s  %7s  %s\n",
                      w1, "HOST", w2, "ADDRESS", "RESULT", "RUNS", "PASS",
                      "FAIL", "SKIP", "OTHER", "TIME", "ERROR");
  int counts[6] = {};
  int host_errors = 0;
  std::string failures;
  for (const HostRun& h : run.hosts()) {
    int c[6] = {};
    for (const Report& r : h.reports()) {
      c[r.result() % 6]++;
      counts[r.result() % 6]++;
      if (Failed(r)) {
        absl::StrAppend(
            &failures,
            absl::StrFormat(
                "  %-10s  %s  %s%s\n", ResultName(r.result()), h.host(),
                r.scenario(),
                r.reason().empty() ? "" : absl::StrCat(": ", r.reason())));
      }
    }
    const bool error = !h.error().empty();
    host_errors += error;
    const char* result =
        error ? "ERROR"
        : c[RESULT_FAIL] + c[RESULT_TIMEOUT] + c[RESULT_INCOMPLETE] > 0
            ? "FAIL"
            : "PASS";
    std::string row = absl::StrFormat(
        "%-*s  %-*s  %-6s  %4d  %4d  %4d  %4d  %5d  %6.2fs  %s", w1, h.host(),
        w2, h.address(), result, h.reports_size(), c[RESULT_PASS],
        c[RESULT_FAIL], c[RESULT_SKIP],
        c[RESULT_TIMEOUT] + c[RESULT_INCOMPLETE] + c[RESULT_UNSPECIFIED],
        h.duration_ms() / 1e3, h.error());
    while (!row.empty() && row.back() == ' ') row.pop_back();
    absl::StrAppend(&out, row, "\n");
  }
  if (!failures.empty()) absl::StrAppend(&out, "\nfailed runs:\n", failures);
  int runs = 0;
  for (int n : counts) runs += n;
  absl::StrAppend(
      &out,
      absl::StrFormat("\n%d scenario runs on %d hosts: %d pass, %d fail, %d "
                      "skip, %d timeout, %d incomplete; %d %s with errors\n",
                      runs, run.hosts_size(), counts[RESULT_PASS],
                      counts[RESULT_FAIL], counts[RESULT_SKIP],
                      counts[RESULT_TIMEOUT], counts[RESULT_INCOMPLETE],
                      host_errors, host_errors == 1 ? "host" : "hosts"));
  return out;
}

}  // namespace xehil::lab
