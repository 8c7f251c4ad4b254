// xehil-lab: the lab controller. See `xehil-lab --help` and usage.cc.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/scenario/loader.h"
#include "tools/agent/byte_size.h"
#include "common/flags.h"
#include "tools/lab/lab_hosts.h"
#include "tools/lab/pressure_command.h"
#include "tools/lab/report/lab_report.h"
#include "tools/lab/run_command.h"
#include "tools/lab/status_command.h"
#include "tools/lab/stop_notice.h"
#include "tools/lab/usage.h"
#include "tools/lab/watch_command.h"
#include "tools/xehil/run_command.h"

using xehil::agent::ByteSize;

// Durations are strings: Abseil's Duration flags do not build under GCC's
// TSan (see tools/agent/main.cc).
ABSL_FLAG(std::string, inventory, "", "inventory file");
ABSL_FLAG(std::string, hosts, "", "host selector");
ABSL_FLAG(int, parallel, 32, "hosts served at once");
ABSL_FLAG(int, attempts, 3, "tries per call while UNAVAILABLE");
ABSL_FLAG(std::string, deadline, "", "per-call deadline");
ABSL_FLAG(std::string, format, "", "status: table|json; watch: text|json");
ABSL_FLAG(bool, require_all, false, "status: exit 1 unless every host is up");
ABSL_FLAG(std::string, provider, "sim", "pressure provider");
ABSL_FLAG(ByteSize, bytes, ByteSize{0}, "pressure size");
ABSL_FLAG(double, fraction, 0, "pressure as a fraction of the region");
ABSL_FLAG(int, region, 1, "memory region instance");
ABSL_FLAG(std::string, ttl, "", "lease TTL");
ABSL_FLAG(std::string, hold, "", "hold the leases (a duration or forever)");
ABSL_FLAG(std::string, lease, "", "lease ids, comma separated");
ABSL_FLAG(bool, all, false, "release every lease");
ABSL_FLAG(std::string, note, "xehil-lab", "shown in the agents' logs");
ABSL_FLAG(int, repeat, 1, "run each scenario N times");
ABSL_FLAG(uint64_t, seed, 0, "seed recorded in the reports");
ABSL_FLAG(bool, isolated_device, false, "sim: a fresh device per run");
ABSL_FLAG(std::string, report_json, "", "LabRun JSON path");
ABSL_FLAG(std::string, junit, "", "JUnit XML path");
ABSL_FLAG(std::string, html, "", "HTML report path");
ABSL_FLAG(bool, quiet, false, "run: only results and the summary");
ABSL_FLAG(bool, verbose, false, "run: also events and restarts");
ABSL_FLAG(std::string, run_deadline, "", "deadline of one scenario run");
ABSL_FLAG(int, count, 0, "watch: stop after N events");
ABSL_FLAG(std::string, duration, "", "watch: stop after this long");

namespace {

namespace lab = xehil::lab;

std::string g_command;  // for usage errors

[[noreturn]] void Usage(const std::string& message) {
  std::fprintf(stderr, "xehil-lab: %s\n(see `xehil-lab %s--help`)\n",
               message.c_str(),
               g_command.empty() ? "" : (g_command + " ").c_str());
  std::exit(xehil::kExitUsage);
}

bool Changed(const std::string& name) {
  const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
  return flag != nullptr && flag->CurrentValue() != flag->DefaultValue();
}

// A positive duration flag; nullopt when not given.
std::optional<absl::Duration> DurationFlag(const std::string& name,
                                           const std::string& text) {
  if (text.empty()) return std::nullopt;
  absl::Duration d;
  if (!absl::ParseDuration(text, &d) || d <= absl::ZeroDuration() ||
      d == absl::InfiniteDuration()) {
    Usage(absl::StrCat("--", name, "=", text,
                       ": expected a duration above zero, e.g. 30s, 5m, "
                       "1500ms"));
  }
  return d;
}

std::unique_ptr<lab::LabHosts> OpenLab(bool hosts_required) {
  lab::LabOptions options;
  options.inventory_path = absl::GetFlag(FLAGS_inventory);
  if (options.inventory_path.empty()) {
    const char* env = std::getenv("XEHIL_LAB_INVENTORY");
    if (env != nullptr) options.inventory_path = env;
  }
  options.selector = absl::GetFlag(FLAGS_hosts);
  if (options.selector.empty()) {
    if (hosts_required) {
      Usage("--hosts=SELECTOR is required (e.g. --hosts=all)");
    }
    options.selector = "all";
  }
  options.parallel = absl::GetFlag(FLAGS_parallel);
  options.attempts = absl::GetFlag(FLAGS_attempts);
  options.rpc_deadline = DurationFlag("deadline", absl::GetFlag(FLAGS_deadline))
                             .value_or(absl::ZeroDuration());
  options.run_deadline =
      DurationFlag("run-deadline", absl::GetFlag(FLAGS_run_deadline))
          .value_or(absl::ZeroDuration());
  absl::StatusOr<std::unique_ptr<lab::LabHosts>> hosts =
      lab::LabHosts::Open(options);
  if (!hosts.ok()) Usage(std::string(hosts.status().message()));
  return *std::move(hosts);
}

int Status(const std::vector<std::string>& args) {
  if (args.size() > 1)
    Usage(absl::StrCat("unexpected argument '", args[1], "'"));
  lab::StatusOptions options;
  options.format = absl::GetFlag(FLAGS_format);
  if (options.format.empty()) options.format = "table";
  if (options.format != "table" && options.format != "json") {
    Usage("--format must be table or json");
  }
  options.require_all = absl::GetFlag(FLAGS_require_all);
  std::unique_ptr<lab::LabHosts> hosts = OpenLab(false);
  return lab::RunStatus(*hosts, options, std::cout, std::cerr);
}

int Pressure(const std::vector<std::string>& args) {
  if (args.size() < 2) Usage("pressure needs acquire, renew or release");
  if (args.size() > 2)
    Usage(absl::StrCat("unexpected argument '", args[2], "'"));
  lab::PressureOptions options;
  options.action = args[1];
  if (options.action != "acquire" && options.action != "renew" &&
      options.action != "release") {
    Usage(absl::StrCat("unknown pressure action '", options.action,
                       "' (acquire, renew or release)"));
  }
  const bool acquire = options.action == "acquire";
  auto only_for = [&](const char* flag, bool allowed, const char* what) {
    if (Changed(flag) && !allowed) {
      Usage(absl::StrCat("--", flag, " applies to ", what, " only"));
    }
  };
  for (const char* f :
       {"provider", "bytes", "fraction", "region", "hold", "note"}) {
    only_for(f, acquire, "pressure acquire");
  }
  only_for("lease", !acquire, "renew and release");
  only_for("all", options.action == "release", "release");
  only_for("ttl", options.action != "release", "acquire and renew");
  options.provider = absl::GetFlag(FLAGS_provider);
  options.bytes = absl::GetFlag(FLAGS_bytes).bytes;
  options.fraction = absl::GetFlag(FLAGS_fraction);
  options.note = absl::GetFlag(FLAGS_note);
  options.ttl = DurationFlag("ttl", absl::GetFlag(FLAGS_ttl));
  options.lease_ids =
      absl::StrSplit(absl::GetFlag(FLAGS_lease), ',', absl::SkipWhitespace());
  options.all = absl::GetFlag(FLAGS_all);
  const int region = absl::GetFlag(FLAGS_region);
  if (region < 0) Usage("--region cannot be negative");
  options.region = static_cast<uint32_t>(region);
  const std::string hold = absl::GetFlag(FLAGS_hold);
  if (!hold.empty()) {
    options.hold = true;
    if (hold != "forever") {
      options.hold_for = *DurationFlag("hold", hold);
    }
  }
  if (acquire) {
    if (options.provider != "sim" && options.provider != "sysmem" &&
        options.provider != "xe-vram") {
      Usage("--provider must be sim, sysmem or xe-vram");
    }
    if ((options.bytes > 0) == Changed("fraction")) {
      Usage("acquire needs one of --bytes=SIZE and --fraction=F");
    }
    if (options.bytes == 0 &&
        !(options.fraction > 0 && options.fraction <= 1)) {
      Usage("--fraction must be in (0, 1]");
    }
    if (options.bytes > uint64_t{INT64_MAX}) Usage("--bytes is too large");
  } else if (options.action == "renew") {
    if (options.lease_ids.empty()) Usage("renew needs --lease=ID");
    if (!options.ttl.has_value()) Usage("renew needs --ttl=D");
  } else if (options.lease_ids.empty() == !options.all) {
    Usage("release needs one of --lease=ID[,ID...] and --all");
  }
  // Before any gRPC thread exists, so that only it receives the signals.
  lab::StopNotice stop;
  std::optional<lab::SignalThread> signals;
  if (options.hold) signals.emplace(&stop);
  std::unique_ptr<lab::LabHosts> hosts = OpenLab(true);
  return lab::RunPressure(*hosts, options, &stop, std::cout, std::cerr);
}

int Run(const std::vector<std::string>& args) {
  std::vector<std::string> paths(args.begin() + 1, args.end());
  if (paths.empty()) Usage("run needs scenario files or directories");
  lab::LabRunOptions options;
  options.repeat = absl::GetFlag(FLAGS_repeat);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.isolated_device = absl::GetFlag(FLAGS_isolated_device);
  options.quiet = absl::GetFlag(FLAGS_quiet);
  options.verbose = absl::GetFlag(FLAGS_verbose);
  if (options.repeat < 1 || options.repeat > 10000) {
    Usage("--repeat must be between 1 and 10000");
  }
  absl::StatusOr<std::vector<std::string>> files =
      xehil::ExpandScenarioPaths(paths);
  if (!files.ok()) Usage(std::string(files.status().message()));
  std::vector<lab::ScenarioFile> scenarios;
  for (const std::string& file : *files) {
    absl::StatusOr<xehil::Scenario> s = xehil::LoadScenarioFile(file);
    if (!s.ok()) Usage(std::string(s.status().message()));
    scenarios.push_back({*std::move(s), file});
  }
  lab::LabReportPaths reports{absl::GetFlag(FLAGS_report_json),
                              absl::GetFlag(FLAGS_junit),
                              absl::GetFlag(FLAGS_html)};
  std::unique_ptr<lab::LabHosts> hosts = OpenLab(true);
  lab::LinePrinter out(std::cout, hosts->name_width());
  out.Line(absl::StrCat(
      "running ", scenarios.size(),
      scenarios.size() == 1 ? " scenario" : " scenarios",
      options.repeat > 1 ? absl::StrCat(" x", options.repeat) : "", " on ",
      hosts->size(), hosts->size() == 1 ? " host" : " hosts"));
  lab::LabRun run = lab::RunOnHosts(*hosts, scenarios, options, out);
  std::cout << lab::FormatRunSummary(run) << std::flush;
  int code = lab::LabRunPassed(run) ? 0 : 1;
  if (absl::Status s = lab::WriteLabReports(run, reports); !s.ok()) {
    std::cerr << "xehil-lab: " << s.message() << "\n";
    code = 1;
  }
  return code;
}

int Watch(const std::vector<std::string>& args) {
  if (args.size() > 1)
    Usage(absl::StrCat("unexpected argument '", args[1], "'"));
  lab::WatchOptions options;
  options.count = absl::GetFlag(FLAGS_count);
  if (options.count < 0) Usage("--count cannot be negative");
  options.duration = DurationFlag("duration", absl::GetFlag(FLAGS_duration))
                         .value_or(absl::InfiniteDuration());
  options.format = absl::GetFlag(FLAGS_format);
  if (options.format.empty()) options.format = "text";
  if (options.format != "text" && options.format != "json") {
    Usage("--format must be text or json");
  }
  lab::StopNotice stop;
  lab::SignalThread signals(&stop);
  std::unique_ptr<lab::LabHosts> hosts = OpenLab(false);
  return lab::RunWatch(*hosts, options, &stop, std::cout, std::cerr);
}

bool IsCommand(const std::string& word) {
  return word == "status" || word == "pressure" || word == "run" ||
         word == "watch";
}

}  // namespace

int main(int argc, char** argv) {
  // --hold alone means "until a signal"; ParseFlags would take the next
  // argument as its value.
  std::vector<std::string> words(argv, argv + argc);
  for (std::string& w : words) {
    if (w == "--hold") w = "--hold=forever";
  }
  for (size_t i = 1; i < words.size() && g_command.empty(); ++i) {
    if (IsCommand(words[i])) g_command = words[i];
  }
  std::vector<const char*> cargv;
  for (const std::string& w : words) cargv.push_back(w.c_str());
  absl::StatusOr<std::vector<std::string>> args =
      xehil::ParseFlags(static_cast<int>(cargv.size()), cargv.data());
  if (!args.ok()) {
    if (args.status().code() == absl::StatusCode::kFailedPrecondition) {
      std::cout << lab::CommandUsage(g_command);
      return 0;
    }
    Usage(std::string(args.status().message()));
  }
  if (args->empty()) Usage("missing command (status, pressure, run, watch)");
  const std::string command = (*args)[0];
  if (command == "help") {
    std::cout << lab::CommandUsage(args->size() > 1 ? (*args)[1] : "");
    return 0;
  }
  if (!IsCommand(command))
    Usage(absl::StrCat("unknown command '", command, "'"));
  g_command = command;
  std::vector<std::string> allowed = lab::CommonFlags();
  for (std::string& f : lab::CommandFlags(command)) allowed.push_back(f);
  for (const std::string& flag : lab::AllFlags()) {
    if (Changed(flag) &&
        std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
      std::string dashed = flag;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      Usage(absl::StrCat("--", dashed, " does not apply to ", command));
    }
  }
  if (command == "status") return Status(*args);
  if (command == "pressure") return Pressure(*args);
  if (command == "run") return Run(*args);
  return Watch(*args);
}
