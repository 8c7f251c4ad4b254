#include "tools/xehil/run_command.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/scenario/loader.h"
#include "core/scenario/report_writer.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/runner.h"
#include "environment/registry.h"
#include "tools/lab/report/lab_report.h"
#include "tools/xehil/backend_select.h"

namespace xehil {
namespace {

namespace fs = std::filesystem;

// Live output: lines for steps and expectations; with a terminal, events and
// restarts turn a spinner on one status line instead of scrolling.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool tty, bool verbose)
      : out_(out), tty_(tty), verbose_(verbose) {}

  void Print(const std::string& scenario, const Progress& p) {
    absl::MutexLock lock(&mu_);
    const bool detail =
        p.kind == Progress::Kind::kEvent || p.kind == Progress::Kind::kRestart;
    if (detail && !verbose_) {
      if (tty_) {
        static constexpr char kSpin[] = "|/-\\";
        out_ << "\r\033[K  " << kSpin[spin_++ % 4] << " " << scenario << ": "
             << p.text << std::flush;
      }
      return;
    }
    if (tty_) out_ << "\r\033[K";
    out_ << absl::StrFormat("  %8.1fms  %s", static_cast<double>(p.t_us) / 1e3,
                            p.text)
         << "\n"
         << std::flush;
  }

 private:
  absl::Mutex mu_;  // runner threads print concurrently
  std::ostream& out_ ABSL_GUARDED_BY(mu_);
  const bool tty_;
  const bool verbose_;
  unsigned spin_ ABSL_GUARDED_BY(mu_) = 0;
};

absl::StatusOr<RunEnvironment> MakeEnvironment(const RunCommandOptions& o,
                                               const Scenario& scenario) {
  EnvironmentDefaults defaults;
  defaults.sim_profile = scenario.device_profile();
  return OpenEnvironment(
      EnvironmentNameFor(o.backend, o.device_profile, o.xe_path), defaults);
}

bool Failed(const Report& r) {
  return r.result() != RESULT_PASS && r.result() != RESULT_SKIP;
}

bool WriteFile(const std::string& path, const std::string& text,
               std::ostream& err) {
  std::ofstream f(path, std::ios::trunc);
  f << text;
  f.close();
  if (!f) {
    err << "xehil: cannot write " << path << "\n";
    return false;
  }
  return true;
}

// What kind of file `status` is, for messages ("a FIFO").
std::string KindOf(const fs::file_status& status) {
  switch (status.type()) {
    case fs::file_type::fifo:
      return "a FIFO";
    case fs::file_type::character:
      return "a character device";
    case fs::file_type::block:
      return "a block device";
    case fs::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

// The directory an output file goes to must exist and be writable before
// the run starts, not be found missing after it.
absl::Status CheckOutputPath(const std::string& flag, const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  fs::path dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%s: directory %s does not exist", flag, path, dir.string()));
  }
  if (::access(dir.c_str(), W_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--%s=%s: directory %s is not writable", flag, path, dir.string()));
  }
  return absl::OkStatus();
}

// The lab's page for one host: this machine, running `reports`.
std::string RunHtml(const RunCommandOptions& options,
                    const std::vector<std::string>& files,
                    const std::vector<Report>& reports, int64_t started_ms,
                    uint64_t duration_ms) {
  lab::LabRun run;
  run.set_started_unix_ms(started_ms);
  run.set_duration_ms(duration_ms);
  for (const std::string& f : files) run.add_scenarios(f);
  lab::HostRun* host = run.add_hosts();
  char name[HOST_NAME_MAX + 1] = {};
  host->set_host(::gethostname(name, HOST_NAME_MAX) == 0 ? name : "localhost");
  host->set_address("local");
  host->set_backend(options.backend);
  if (!reports.empty()) host->set_device(reports.front().device());
  host->set_attempts(1);
  host->set_duration_ms(duration_ms);
  for (const Report& r : reports) *host->add_reports() = r;
  return lab::LabRunToHtml(run);
}

void PrintSummary(const std::vector<Report>& reports, std::ostream& out) {
  size_t width = 8;
  for (const Report& r : reports) width = std::max(width, r.scenario().size());
  const int w = static_cast<int>(width);
  out << "\n"
      << absl::StrFormat("%-*s  %-10s  %-8s  %-18s  %-9s  %s\n", w, "scenario",
                         "result", "checks", "restarts (ok/try)", "p99",
                         "time");
  int counts[6] = {};
  for (const Report& r : reports) {
    int passed = 0;
    for (const ExpectationResult& e : r.expectations()) {
      passed += e.result() == RESULT_PASS;
    }
    counts[r.result() % 6]++;
    out << absl::StrFormat("%-*s  %-10s  %3d/%-4d  %8u/%-9u  %7.2fms  %.2fs\n",
                           w, r.scenario(), ResultName(r.result()), passed,
                           r.expectations_size(), r.restarts().succeeded(),
                           r.restarts().tried(), r.latency().p99_us() / 1e3,
                           static_cast<double>(r.duration_ms()) / 1e3);
  }
  out << absl::StrFormat(
      "\n%d scenario runs: %d pass, %d fail, %d skip, %d timeout, %d "
      "incomplete\n",
      static_cast<int>(reports.size()), counts[RESULT_PASS],
      counts[RESULT_FAIL], counts[RESULT_SKIP], counts[RESULT_TIMEOUT],
      counts[RESULT_INCOMPLETE]);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ExpandScenarioPaths(
    const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
        if (e.is_regular_file() &&
            absl::EndsWith(e.path().string(), ".textproto")) {
          found.push_back(e.path().string());
        }
      }
      if (found.empty()) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: no *.textproto scenarios in it", path));
      }
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
    } else if (fs::file_status st = fs::status(path, ec); fs::exists(st)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: %s, not a scenario file or directory", path, KindOf(st)));
    } else {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: no such scenario file or directory", path));
    }
  }
  if (files.empty()) {
    return absl::InvalidArgumentError("no scenario files given");
  }
  return files;
}

int RunScenarios(const RunCommandOptions& options, std::ostream& out,
                 std::ostream& err) {
  for (const auto& [flag, path] :
       {std::pair<std::string, std::string>{"report-json", options.report_json},
        {"junit", options.junit},
        {"html", options.html}}) {
    if (absl::Status s = CheckOutputPath(flag, path); !s.ok()) {
      err << "xehil: " << s.message() << "\n";
      return 2;
    }
  }
  const absl::Time started = absl::Now();
  absl::StatusOr<std::vector<std::string>> files =
      ExpandScenarioPaths(options.paths);
  if (!files.ok()) {
    err << "xehil: " << files.status().message() << "\n";
    return 1;
  }
  // Load everything first: a typo in the last file should not cost a run.
  std::vector<Scenario> scenarios;
  for (const std::string& file : *files) {
    absl::StatusOr<Scenario> s = LoadScenarioFile(file);
    if (!s.ok()) {
      err << "xehil: " << s.status().message() << "\n";
      // A scenario that does not parse or validate is a bad input value.
      return s.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
    }
    scenarios.push_back(*std::move(s));
  }
  ProgressPrinter printer(out, options.tty, options.verbose);
  std::vector<Report> reports;
  const int total = static_cast<int>(scenarios.size()) * options.repeat;
  for (int rep = 0; rep < options.repeat; ++rep) {
    for (size_t i = 0; i < scenarios.size(); ++i) {
      const Scenario& scenario = scenarios[i];
      out << absl::StrFormat("[%d/%d] %s (%s)\n",
                             static_cast<int>(reports.size()) + 1, total,
                             scenario.name(), (*files)[i]);
      absl::StatusOr<RunEnvironment> env = MakeEnvironment(options, scenario);
      if (!env.ok()) {
        err << "xehil: " << options.backend
            << " backend unavailable: " << env.status().message() << "\n";
        return 1;
      }
      RunOptions run;
      run.source = (*files)[i];
      run.seed = options.seed;
      run.repeat_index = static_cast<uint32_t>(rep);
      run.on_progress = [&](const Progress& p) {
        printer.Print(scenario.name(), p);
      };
      absl::StatusOr<Report> report = RunScenario(scenario, *env, run);
      if (!report.ok()) {
        err << "xehil: " << report.status().message() << "\n";
        return 1;
      }
      reports.push_back(*std::move(report));
    }
  }
  PrintSummary(reports, out);
  bool ok = std::none_of(reports.begin(), reports.end(), Failed);
  if (!options.report_json.empty()) {
    ReportSet set;
    for (const Report& r : reports) *set.add_reports() = r;
    absl::StatusOr<std::string> json = ReportSetToJson(set);
    if (!json.ok()) {
      err << "xehil: --report-json " << options.report_json << ": "
          << json.status().message() << "\n";
      ok = false;
    } else {
      ok &= WriteFile(options.report_json, *json, err);
    }
  }
  if (!options.junit.empty()) {
    ok &= WriteFile(options.junit, ReportsToJunitXml(reports, "xehil"), err);
  }
  if (!options.html.empty()) {
    const absl::Duration took = absl::Now() - started;
    ok &= WriteFile(
        options.html,
        RunHtml(options, *files, reports, absl::ToUnixMillis(started),
                static_cast<uint64_t>(absl::ToInt64Milliseconds(took))),
        err);
  }
  return ok ? 0 : 1;
}

}  // namespace xehil
