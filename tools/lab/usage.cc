#include "tools/lab/usage.h"

#include "absl/strings/str_cat.h"
#include "tools/lab/selector.h"

namespace xehil::lab {
namespace {

constexpr char kCommon[] =
    R"(common flags:
  --inventory=PATH   the lab's hosts (text-format xehil.lab.Inventory);
                     default $XEHIL_LAB_INVENTORY
  --hosts=SELECTOR   which hosts (see below); status and watch default to all
  --parallel=N       hosts served at once (default 32)
  --attempts=N       tries per call while a host is UNAVAILABLE (default 3)
  --deadline=D       per-call deadline (default: the inventory's
                     info_deadline_ms, else 5s)
  --help             this text
)";

constexpr char kExit[] =
    R"(exit codes: 0 success, 1 a host failed, refused or was unreachable,
            2 usage error (bad flag, inventory, selector or scenario file)
)";

constexpr char kOverview[] =
    R"(usage: xehil-lab COMMAND [flags]

Drives the xehil-agents of a lab (proto/lab.proto) from one inventory.

commands:
  status     every host's agent, device, memory regions, leases and
             providers in one table; unreachable hosts are rows too
  pressure   acquire | renew | release memory-pressure leases
  run        run scenario files on the selected hosts at once, with live
             per-host progress and JSON / JUnit / HTML reports
  watch      the VM-error events the hosts' agents see, merged
  help [COMMAND]

`xehil-lab COMMAND --help` describes a command.

inventory (text-format xehil.lab.Inventory, proto/lab_controller.proto;
credential paths are relative to the inventory file):
  default_credentials { token_file: "tokens/admin" }
  hosts { name: "dg2-a" address: "10.0.0.5:50051" labels: "gpu=xe"
          credentials { token_file: "tokens/admin" tls_ca: "lab-ca.pem" } }
  hosts { name: "sim-1" address: "127.0.0.1:50051" labels: "sim" }

)";

constexpr char kStatus[] =
    R"(usage: xehil-lab status [--hosts=SELECTOR] [--format=table|json]
                        [--require-all]

GetInfo on every selected host at once, one row per host: address, state
(up, or the gRPC code of the failure such as UNAVAILABLE), backend, device,
memory regions (instance:used/total), leases and available providers. A
host that is down gets a row with its error and does not stop the others.

  --format=table|json  json prints a xehil.lab.LabStatus
  --require-all        exit 1 unless every host is up (default: exit 0
                       once the table is printed)

)";

constexpr char kPressure[] =
    R"(usage: xehil-lab pressure acquire --hosts=SELECTOR [--provider=sim]
           (--bytes=SIZE | --fraction=F) [--region=N] [--ttl=D]
           [--hold[=D]] [--note=TEXT]
       xehil-lab pressure renew --hosts=SELECTOR --lease=ID[,ID...] --ttl=D
       xehil-lab pressure release --hosts=SELECTOR (--lease=ID[,ID...] | --all)

acquire takes the same lease on every selected host, all or nothing: if a
host refuses, the leases the others granted are released again (exit 1).
It prints one "HOST | acquired LEASE_ID: ..." line per host.

  --provider=NAME   sim (the simulated device), sysmem (locked system
                    memory) or xe-vram (VRAM buffers); default sim
  --bytes=SIZE      e.g. 64M, 64MiB, 2G, or bytes
  --fraction=F      (0, 1] of the region (sysmem: of MemTotal)
  --region=N        memory region instance for sim and xe-vram (default 1,
                    the first VRAM region of a discrete device)
  --ttl=D           lease TTL (default 30s; with --hold: the hold duration
                    plus 10s, or the agent's longest TTL)
  --hold[=D]        bind the leases to this process: stay until SIGINT or
                    SIGTERM (or for D), then release them. If the process
                    dies, even by SIGKILL, the agents release them at once.
                    Nothing is renewed: a lease still ends at its TTL.
  --note=TEXT       shown in the agents' logs

renew moves each lease's expiry to now + --ttl; release ends leases by id,
or every lease the hosts hold with --all. An id is tried on every selected
host; one found on none is an error.

)";

constexpr char kRun[] =
    R"(usage: xehil-lab run FILE|DIR... --hosts=SELECTOR [--repeat=N] [--seed=N]
           [--isolated-device] [--report-json=PATH] [--junit=PATH]
           [--html=PATH] [--quiet] [--verbose] [--run-deadline=D]

Runs each scenario (files, or directories of *.textproto) on every selected
host at once; on one host they run one after another. Progress lines are
prefixed with the host; a per-host table and counts close the run. Exit 0
only if every host ran everything and no run failed (PASS, or SKIP on a
backend that cannot do a step).

  --repeat=N          run each scenario N times (default 1)
  --seed=N            seed recorded in every report
  --isolated-device   sim agents: each run on a fresh device of the
                      scenario's profile (like `xehil run`), not the agent's
  --report-json=PATH  the xehil.lab.LabRun as JSON
  --junit=PATH        JUnit XML, one <testsuite> per host
  --html=PATH         one self-contained HTML page
  --quiet             only each run's result line and the summary
  --verbose           also every event and restart
  --run-deadline=D    deadline of one scenario run (default: the
                      inventory's run_deadline_ms, else 10m)

)";

constexpr char kWatch[] =
    R"(usage: xehil-lab watch [--hosts=SELECTOR] [--count=N] [--duration=D]
                       [--format=text|json]

Streams the watch events (VM_ERR, LOST, ...) that the selected agents'
scenario runs see, one line per event prefixed with the host. Prints
"watching N of M hosts" once every stream is in place or has failed. Ends
after --count events, after --duration, on SIGINT/SIGTERM, or when every
stream has ended; a host that cannot be watched or drops is reported and
makes the exit code 1.

  --count=N          stop after N events in all (default: no limit)
  --duration=D       stop after D (e.g. 30s, 5m)
  --format=text|json json: {"host": ..., "event": {...}} per line

)";

}  // namespace

std::string MainUsage() {
  return absl::StrCat(kOverview, kCommon, "\n", kSelectorHelp, "\n", kExit);
}

std::string CommandUsage(const std::string& command) {
  const char* text = command == "status"     ? kStatus
                     : command == "pressure" ? kPressure
                     : command == "run"      ? kRun
                     : command == "watch"    ? kWatch
                                             : nullptr;
  if (text == nullptr) return MainUsage();
  return absl::StrCat(text, kCommon, "\n", kSelectorHelp, "\n", kExit);
}

std::vector<std::string> CommonFlags() {
  return {"inventory", "hosts", "parallel", "attempts", "deadline"};
}

std::vector<std::string> CommandFlags(const std::string& command) {
  if (command == "status") return {"format", "require_all"};
  if (command == "pressure") {
    return {"provider", "bytes", "fraction", "region", "ttl",
            "hold",     "lease", "all",      "note"};
  }
  if (command == "run") {
    return {"repeat", "seed",  "isolated_device", "report_json", "junit",
            "html",   "quiet", "verbose",         "run_deadline"};
  }
  if (command == "watch") return {"count", "duration", "format"};
  return {};
}

std::vector<std::string> AllFlags() {
  std::vector<std::string> all = CommonFlags();
  for (const char* c : {"status", "pressure", "run", "watch"}) {
    for (std::string& f : CommandFlags(c)) all.push_back(std::move(f));
  }
  return all;
}

}  // namespace xehil::lab
