// xehil: the command-line front end. See `xehil --help`.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sim/device_profile.h"
#include "common/flags.h"
#include "environment/registry.h"
#include "tools/xehil/backend_select.h"
#include "tools/xehil/demo.h"
#include "tools/xehil/info_command.h"
#include "tools/xehil/run_command.h"
#include "tools/xehil/sim_run_command.h"
#include "tools/xehil/vm_run_command.h"
#include "tools/xehil/watch_command.h"

ABSL_FLAG(std::string, backend, "sim",
          "Environment: sim[:PROFILE], simd[:SOCKET] or xe[:NODE].");
ABSL_FLAG(std::string, device_profile, "",
          "Simulated device profile: dg2-16g, bmg-12g or lnl-igpu "
          "(default dg2-16g; for run, each scenario's own).");
ABSL_FLAG(std::string, device, "",
          "xe render node (e.g. /dev/dri/renderD128); empty: discover.");
ABSL_FLAG(std::string, format, "text", "watch output: text, json or raw.");
ABSL_FLAG(std::string, record, "",
          "demo: also write every byte read from the pipe to this file.");
ABSL_FLAG(int, vms, 40, "demo: number of restartable LR VMs.");
ABSL_FLAG(int, count, 0, "watch: stop after this many events (0: no limit).");
ABSL_FLAG(int, sim_errors, 6, "watch on sim: scripted VM errors to generate.");
ABSL_FLAG(int, ring, 256, "watch: ring size in notes (1..512).");
ABSL_FLAG(bool, quiet, false, "demo: no per-event lines, only the summary.");
ABSL_FLAG(std::string, report_json, "", "run: write the reports as JSON here.");
ABSL_FLAG(std::string, junit, "", "run: write JUnit XML here.");
ABSL_FLAG(std::string, html, "",
          "run: write the lab's HTML page (this host) here.");
ABSL_FLAG(int, repeat, 1, "run: run each scenario N times.");
ABSL_FLAG(uint64_t, seed, 0, "run: seed recorded in each report.");
ABSL_FLAG(bool, verbose, false,
          "run: also print every event and restart; sim-run: show the "
          "daemon's log.");
ABSL_FLAG(std::string, script, "",
          "sim-run: fault rules for the simulated device (text-format "
          "xehil.sim.SimdScript).");
ABSL_FLAG(std::string, socket, "",
          "sim-run: use the xehil-simd listening here, not a new one.");
ABSL_FLAG(std::string, preload, "",
          "sim-run: the interposer (default: libxehil_preload.so from the "
          "runfiles).");
ABSL_FLAG(std::string, simd, "",
          "sim-run: the xehil-simd binary (default: from the runfiles).");
ABSL_FLAG(int, cpus, 2, "vm-run: guest vCPUs.");
ABSL_FLAG(int, memory, 1024, "vm-run: guest memory in MiB.");
ABSL_FLAG(double, timeout, 120, "vm-run: seconds before the guest is killed.");
ABSL_FLAG(std::string, kernel, "",
          "vm-run: the vxe kernel directory (default: the per-machine cache "
          "of vxe/kernel/build-kernel.sh, or $XEHIL_VXE_KERNEL).");
ABSL_FLAG(std::string, qemu, "", "vm-run: QEMU binary (default from PATH).");
ABSL_FLAG(std::string, accel, "tcg",
          "vm-run: tcg, kvm, or auto (kvm if a cached probe boot works).");
ABSL_FLAG(std::vector<std::string>, guest_module, {},
          "vm-run: kernel modules to load in the guest first (comma list).");
ABSL_FLAG(std::string, guest_daemon, "",
          "vm-run: daemon command (split at spaces) started in the guest "
          "before the program; ready when it prints a line 'ready'.");
ABSL_FLAG(bool, no_device, false,
          "vm-run: no simulated xe device in the guest (the bare kernel).");

namespace {

constexpr char kUsage[] =
    R"(usage: xehil COMMAND [flags]

Simulation and fault injection for the Intel Xe VM-error recovery path.

commands:
  demo    Run the recovery loop end to end on the simulated kernel: VM errors
          (-ENOMEM, -ENOSPC under held VRAM pressure, an -EAGAIN run, a burst
          that overflows the ring) are delivered over a real pipe, restarted by
          the recovery engine, and summarised. Exit 0 only if every VM recovered.
          flags: --device-profile --vms --record=PATH --quiet
  watch   Subscribe a notification pipe and print the events it carries.
          flags: --backend=ENV --format=text|json|raw --count --ring
                 --device (xe) --device-profile --sim_errors (sim)
  info    Show the device, its memory regions and engines, and whether the
          kernel supports watch queues.
          flags: --backend=ENV --device --device-profile
  run     Run scenario files (or directories of *.textproto) and check their
          expectations; live progress, a summary table, optional reports.
          Exit 0 only if no run failed (PASS, or SKIP on a backend that
          cannot do a step).
          usage: xehil run FILE|DIR... [--backend=ENV] [--device-profile]
                 [--report-json=PATH] [--junit=PATH] [--html=PATH]
                 [--repeat=N] [--seed=N] [--verbose]
  list    Show scenarios and what each one checks: xehil list FILE|DIR...
  sim-run Run an unmodified program (written against the raw xe UAPI) on a
          simulated device: starts xehil-simd (or uses --socket), runs the
          program with the LD_PRELOAD interposer, then prints what the device
          saw (ioctls by result, records, rebinds, restarts). Exits with the
          program's code (128+signal if it was killed).
          usage: xehil sim-run [--device-profile=NAME] [--script=FILE]
                 [--socket=PATH] [--preload=PATH] [--simd=PATH] [--verbose]
                 -- PROGRAM ARGS...
  vm-run  Run an unmodified program in a QEMU guest on the vxe kernel (a real
          Linux 6.12 with watch queues; the host's filesystem, read-only, as
          its root; same directory and environment; /tmp is the guest's own).
          Streams its output; exits with its code (124: killed at --timeout,
          127: not executable, 1: no QEMU, no kernel, or the guest failed).
          The kernel is built once per machine by vxe/kernel/build-kernel.sh.
          The guest has the simulated xe GPU at /dev/dri/renderD128: the vxe
          driver on the kernel's watch_queue, xehil-simd behind it with
          --device-profile and --script (as sim-run).
          usage: xehil vm-run [--device-profile=NAME] [--script=FILE]
                 [--cpus=2] [--memory=MIB] [--timeout=SECONDS]
                 [--accel=tcg|kvm|auto] [--kernel=DIR] [--qemu=PATH]
                 [--guest_module=KO,...] [--guest_daemon="CMD ARGS"]
                 [--no-device] [--verbose] -- PROGRAM ARGS...

flags:
  --backend=ENV      where to run (default sim):
                       sim[:PROFILE]  a fresh simulated device
                       simd[:SOCKET]  a running xehil-simd's device
                       xe[:NODE]      an xe render node (vxe inside vm-run)
                     what each can inject: README "Environments"
  --device-profile=NAME  simulated device: dg2-16g (default), bmg-12g,
                     lnl-igpu; for run it overrides each scenario's profile
  --device=PATH      xe render node; default: the first one driven by xe
  --format=FMT       watch output: text (default), json (one object a line),
                     raw (record bytes exactly as read from the pipe)
  --record=PATH      demo: also write the raw pipe bytes to PATH
  --vms=N            demo: restartable LR VMs (default 40, at least 4)
  --count=N          watch: stop after N events (default: until the stream ends)
  --ring=N           watch: ring size in notes, 1..512 (default 256)
  --sim_errors=N     watch on sim: scripted VM errors to generate (default 6)
  --quiet            demo: print only the phases and the summary
  --report-json=PATH run: write every report (xehil.ReportSet) as JSON
  --junit=PATH       run: write JUnit XML, one test case per scenario run
  --html=PATH        run: write the HTML page xehil-lab writes, for this host
  --repeat=N         run: run each scenario N times (default 1)
  --seed=N           run: seed recorded in the reports
  --verbose          run: print every event and restart as a line;
                     sim-run: show the daemon's log as it happens
  --script=FILE      sim-run: fault rules (xehil.sim.SimdScript textproto)
  --socket=PATH      sim-run: use this xehil-simd instead of starting one
  --preload=PATH     sim-run: interposer (default: from the runfiles)
  --simd=PATH        sim-run: xehil-simd binary (default: from the runfiles)
  --cpus=N           vm-run: guest vCPUs, 1..16 (default 2)
  --memory=MIB       vm-run: guest memory, 128..16384 MiB (default 1024)
  --timeout=SECONDS  vm-run: kill the guest after this long (default 120)
  --accel=ACCEL      vm-run: tcg (default), kvm, or auto: kvm only if a probe
                     boot under KVM works (cached per machine; nested KVM on
                     many CI hosts fails)
  --kernel=DIR       vm-run: vxe kernel directory (holds vmlinux)
  --guest_module=KO  vm-run: modules loaded in the guest before the program
  --guest_daemon=CMD vm-run: daemon started in the guest before the program,
                     ready once it prints a line "ready", stopped after it
  --help             this text

exit codes: 0 success, 1 failure (or a VM that did not recover), 2 usage error
)";

std::string ProfileOr(const std::string& fallback) {
  std::string profile = absl::GetFlag(FLAGS_device_profile);
  return profile.empty() ? fallback : profile;
}

int Run(std::vector<std::string> paths) {
  xehil::RunCommandOptions options;
  options.paths = std::move(paths);
  options.backend = absl::GetFlag(FLAGS_backend);
  options.device_profile = absl::GetFlag(FLAGS_device_profile);
  options.xe_path = absl::GetFlag(FLAGS_device);
  options.report_json = absl::GetFlag(FLAGS_report_json);
  options.junit = absl::GetFlag(FLAGS_junit);
  options.html = absl::GetFlag(FLAGS_html);
  options.repeat = absl::GetFlag(FLAGS_repeat);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.verbose = absl::GetFlag(FLAGS_verbose);
  options.tty = ::isatty(STDOUT_FILENO) == 1;
  if (options.paths.empty()) {
    xehil::UsageError("run needs scenario files or directories", kUsage);
  }
  if (options.repeat < 1 || options.repeat > 10000) {
    xehil::UsageError("--repeat must be between 1 and 10000", kUsage);
  }
  return xehil::RunScenarios(options, std::cout, std::cerr);
}

int List(std::vector<std::string> paths) {
  if (paths.empty()) {
    xehil::UsageError("list needs scenario files or directories", kUsage);
  }
  return xehil::ListScenarios(paths, std::cout, std::cerr);
}

int Demo() {
  xehil::DemoOptions options;
  options.profile = ProfileOr("dg2-16g");
  options.vms = absl::GetFlag(FLAGS_vms);
  options.record_path = absl::GetFlag(FLAGS_record);
  options.quiet = absl::GetFlag(FLAGS_quiet);
  if (options.vms < 4 || options.vms > 4096) {
    xehil::UsageError("--vms must be between 4 and 4096", kUsage);
  }
  absl::StatusOr<xehil::DemoResult> result = xehil::RunDemo(options, std::cout);
  if (!result.ok()) {
    std::cerr << "xehil demo: " << result.status() << "\n";
    return 1;
  }
  return result->recovered() ? 0 : 1;
}

int Watch() {
  xehil::WatchOptions options;
  options.backend = absl::GetFlag(FLAGS_backend);
  options.sim_profile = ProfileOr("dg2-16g");
  options.xe_path = absl::GetFlag(FLAGS_device);
  options.format = absl::GetFlag(FLAGS_format);
  options.count = absl::GetFlag(FLAGS_count);
  options.sim_errors = absl::GetFlag(FLAGS_sim_errors);
  int ring = absl::GetFlag(FLAGS_ring);
  if (ring < 1 || ring > 512) {
    xehil::UsageError("--ring must be between 1 and 512 notes", kUsage);
  }
  if (options.count < 0 || options.sim_errors < 0) {
    xehil::UsageError("--count and --sim_errors cannot be negative", kUsage);
  }
  options.ring_notes = static_cast<uint32_t>(ring);
  return xehil::RunWatch(options, std::cout, std::cerr);
}

int Info() {
  absl::StatusOr<xehil::OpenedBackend> opened =
      xehil::OpenBackend(absl::GetFlag(FLAGS_backend), ProfileOr("dg2-16g"),
                         absl::GetFlag(FLAGS_device));
  if (!opened.ok()) {
    std::cout << "backend:     " << absl::GetFlag(FLAGS_backend) << "\n";
    xehil::PrintNoDevice(opened.status(), std::cout);
    return 1;
  }
  return xehil::PrintDeviceInfo(*opened->file.backend, std::cout);
}

int VmRun(std::vector<std::string> command) {
  xehil::VmRunCommandOptions options;
  options.command = std::move(command);
  options.kernel = absl::GetFlag(FLAGS_kernel);
  options.qemu = absl::GetFlag(FLAGS_qemu);
  options.accel = absl::GetFlag(FLAGS_accel);
  options.cpus = absl::GetFlag(FLAGS_cpus);
  options.memory_mb = absl::GetFlag(FLAGS_memory);
  options.timeout_s = absl::GetFlag(FLAGS_timeout);
  options.guest_modules = absl::GetFlag(FLAGS_guest_module);
  options.guest_daemon =
      absl::StrSplit(absl::GetFlag(FLAGS_guest_daemon), ' ', absl::SkipEmpty());
  options.verbose = absl::GetFlag(FLAGS_verbose);
  if (options.command.empty()) {
    xehil::UsageError("vm-run needs a program: vm-run [flags] -- PROGRAM",
                      kUsage);
  }
  if (options.accel != "tcg" && options.accel != "kvm" &&
      options.accel != "auto") {
    xehil::UsageError("--accel must be tcg, kvm or auto", kUsage);
  }
  if (options.cpus < 1 || options.cpus > 16) {
    xehil::UsageError("--cpus must be between 1 and 16", kUsage);
  }
  if (options.memory_mb < 128 || options.memory_mb > 16384) {
    xehil::UsageError("--memory must be between 128 and 16384 MiB", kUsage);
  }
  if (!(options.timeout_s > 0 && options.timeout_s <= 86400)) {
    xehil::UsageError("--timeout must be between 0 and 86400 seconds", kUsage);
  }
  options.device = !absl::GetFlag(FLAGS_no_device);
  options.device_profile = absl::GetFlag(FLAGS_device_profile);
  options.script = absl::GetFlag(FLAGS_script);
  if (!options.device_profile.empty()) {
    if (absl::StatusOr<xehil::sim::DeviceProfile> profile =
            xehil::sim::FindProfile(options.device_profile);
        !profile.ok()) {
      xehil::UsageError(profile.status().message(), kUsage);
    }
  }
  const bool own_device =
      !options.guest_modules.empty() || !options.guest_daemon.empty();
  if ((own_device || !options.device) &&
      (!options.device_profile.empty() || !options.script.empty())) {
    xehil::UsageError(
        "vm-run: --device-profile and --script configure the simulated "
        "device, which --guest_module/--guest_daemon/--no-device replace",
        kUsage);
  }
  if (!options.script.empty() && ::access(options.script.c_str(), R_OK) != 0) {
    xehil::UsageError(
        absl::StrCat("--script=", options.script, ": ", std::strerror(errno)),
        kUsage);
  }
  return xehil::RunVmRun(options, std::cerr);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args = xehil::ParseFlagsOrExit(
      argc, argv, kUsage,
      {"demo", "watch", "info", "run", "list", "sim-run", "vm-run", "help"});
  // Under `bazel run` the process starts in its runfiles: paths the user
  // typed are relative to where bazel was run (runfiles are found through
  // /proc/self/exe, whatever the directory).
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
      dir != nullptr && *dir != '\0' && ::chdir(dir) != 0) {
    std::cerr << "xehil: cannot enter " << dir << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  if (args.empty()) xehil::UsageError("missing command", kUsage);
  const std::string& command = args[0];
  if (command == "help") {
    std::cout << kUsage;
    return 0;
  }
  const std::string backend = absl::GetFlag(FLAGS_backend);
  if (absl::Status named = xehil::ParseEnvironmentName(backend).status();
      !named.ok()) {
    xehil::UsageError(absl::StrCat("--backend: ", named.message()), kUsage);
  }
  // An unknown profile is a usage error whatever the command.
  if (const std::string profile = absl::GetFlag(FLAGS_device_profile);
      !profile.empty()) {
    if (absl::Status found = xehil::sim::FindProfile(profile).status();
        !found.ok()) {
      xehil::UsageError(found.message(), kUsage);
    }
  }
  if (command == "sim-run") {
    xehil::SimRunOptions options;
    options.command.assign(args.begin() + 1, args.end());
    options.device_profile = absl::GetFlag(FLAGS_device_profile);
    options.script = absl::GetFlag(FLAGS_script);
    options.socket = absl::GetFlag(FLAGS_socket);
    options.preload = absl::GetFlag(FLAGS_preload);
    options.simd = absl::GetFlag(FLAGS_simd);
    options.verbose = absl::GetFlag(FLAGS_verbose);
    if (options.command.empty()) {
      xehil::UsageError("sim-run needs a program: sim-run [flags] -- PROGRAM",
                        kUsage);
    }
    return xehil::RunSimRun(options, std::cerr);
  }
  if (command == "vm-run")
    return VmRun(std::vector<std::string>(args.begin() + 1, args.end()));
  if (command == "run" || command == "list") {
    std::vector<std::string> paths(args.begin() + 1, args.end());
    return command == "run" ? Run(std::move(paths)) : List(std::move(paths));
  }
  if (args.size() > 1) {
    xehil::UsageError(absl::StrCat("unexpected argument '", args[1], "'"),
                      kUsage);
  }
  if (command == "demo") return Demo();
  if (command == "watch") return Watch();
  if (command == "info") return Info();
  xehil::UsageError(absl::StrCat("unknown command '", command, "'"), kUsage);
}
