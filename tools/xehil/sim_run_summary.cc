#include "tools/xehil/sim_run_summary.h"

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace xehil {
namespace {

using IoctlCounts = std::map<std::string, std::map<int, uint64_t>>;

uint64_t Delta(uint64_t before, uint64_t after) {
  return after > before ? after - before : 0;
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

// The program's processes: `program` and every client whose parent chain,
// as the daemon recorded it, leads there (what it forked).
std::set<uint32_t> ProgramPids(const sim::DeviceStatus& after,
                               uint32_t program) {
  std::set<uint32_t> pids;
  if (program == 0) return pids;
  pids.insert(program);
  for (bool grew = true; grew;) {
    grew = false;
    for (const sim::ProcessCounters& p : after.processes()) {
      if (pids.count(p.ppid()) > 0 && pids.insert(p.pid()).second) grew = true;
    }
  }
  return pids;
}

struct Share {
  uint64_t opened = 0, released = 0;
  IoctlCounts ioctls;
  std::map<std::pair<std::string, int>, std::string> errno_names;
};

// What the processes in `pids` did between the snapshots.
Share ProgramShare(const sim::DeviceStatus& before,
                   const sim::DeviceStatus& after,
                   const std::set<uint32_t>& pids) {
  std::map<uint32_t, const sim::ProcessCounters*> was;
  for (const sim::ProcessCounters& p : before.processes()) was[p.pid()] = &p;
  Share share;
  for (const sim::ProcessCounters& p : after.processes()) {
    if (pids.count(p.pid()) == 0) continue;
    const sim::ProcessCounters* old =
        was.count(p.pid()) > 0 ? was[p.pid()] : nullptr;
    share.opened += Delta(old ? old->files_opened() : 0, p.files_opened());
    share.released +=
        Delta(old ? old->files_released() : 0, p.files_released());
    IoctlCounts old_ioctls;
    if (old != nullptr) {
      for (const sim::IoctlCount& c : old->ioctls()) {
        old_ioctls[c.name()][c.result()] += c.count();
      }
    }
    for (const sim::IoctlCount& c : p.ioctls()) {
      const uint64_t d = Delta(old_ioctls[c.name()][c.result()], c.count());
      if (d == 0) continue;
      share.ioctls[c.name()][c.result()] += d;
      share.errno_names[{c.name(), c.result()}] = c.errno_name();
    }
  }
  return share;
}

uint64_t TotalIoctls(const sim::Counters& counters) {
  uint64_t n = 0;
  for (const sim::IoctlCount& c : counters.ioctls()) n += c.count();
  return n;
}

}  // namespace

void PrintSimRunSummary(const sim::DeviceStatus& before,
                        const sim::DeviceStatus& after, uint32_t program,
                        std::ostream& out) {
  const sim::Counters& b = before.counters();
  const sim::Counters& a = after.counters();
  const Share share = ProgramShare(before, after, ProgramPids(after, program));
  out << "simulated device: " << after.description() << "\n";
  out << "files:     " << share.opened << " opened, " << share.released
      << " released\n";

  std::vector<std::string> lines;
  for (const auto& [name, by_result] : share.ioctls) {
    std::vector<std::string> parts;
    // Negative errnos sort before 0 in the map; "ok" goes first.
    if (auto ok = by_result.find(0); ok != by_result.end()) {
      parts.push_back(absl::StrCat(ok->second, " ok"));
    }
    for (const auto& [result, count] : by_result) {
      if (result == 0) continue;
      const std::string& errno_name = share.errno_names.at({name, result});
      parts.push_back(absl::StrCat(
          count, " ", errno_name.empty() ? absl::StrCat(result) : errno_name));
    }
    lines.push_back(
        absl::StrFormat("%-18s %s", name, absl::StrJoin(parts, ", ")));
  }
  if (lines.empty()) {
    out << "ioctls:    none (did the program open a render node? LD_PRELOAD "
           "does not reach static or setuid programs)\n";
  } else {
    out << "ioctls:    " << absl::StrJoin(lines, "\n           ") << "\n";
  }
  // Everything below is the device's, whoever caused it.
  out << "device:    every client in the meantime: "
      << Delta(before.daemon().files_opened(), after.daemon().files_opened())
      << " files opened, "
      << Delta(before.daemon().files_released(),
               after.daemon().files_released())
      << " released, " << Delta(TotalIoctls(b), TotalIoctls(a)) << " ioctls";
  if (after.files_size() > 0) {
    out << "; " << after.files_size() << " files still open";
  }
  out << "\n";

  out << "records:   " << Delta(b.records_posted(), a.records_posted())
      << " posted, " << Delta(b.records_refused(), a.records_refused())
      << " refused, " << Delta(b.records_dropped(), a.records_dropped())
      << " dropped by script, "
      << Delta(b.records_unwatched(), a.records_unwatched()) << " unwatched; "
      << Plural(Delta(b.removals_posted(), a.removals_posted()), "removal",
                "removals")
      << "\n";
  out << "rebinds:   " << Delta(b.rebinds(), a.rebinds()) << " run, "
      << Delta(b.rebind_failures(), a.rebind_failures()) << " failed, "
      << Delta(b.rebind_again_retries(), a.rebind_again_retries())
      << " -EAGAIN retries; "
      << Plural(Delta(b.evictions(), a.evictions()), "eviction", "evictions")
      << "\n";
  out << "VMs:       " << Delta(b.vms_paused(), a.vms_paused()) << " paused, "
      << Delta(b.vms_banned(), a.vms_banned()) << " banned\n";
  out << "restarts:  " << Delta(b.restarts(), a.restarts()) << " ("
      << Delta(b.restarts_succeeded(), a.restarts_succeeded()) << " succeeded, "
      << Delta(b.restarts_failed(), a.restarts_failed()) << " failed again, "
      << Delta(b.restarts_again(), a.restarts_again()) << " -EAGAIN)";
  if (Delta(b.restart_latency_samples(), a.restart_latency_samples()) > 0) {
    out << "; last event-to-restart latency "
        << a.last_restart_latency_ns() / 1000 << " us";
  }
  out << "\n";

  std::map<std::string, uint32_t> fired_before;
  for (const sim::RuleStatus& rule : before.rules()) {
    fired_before[rule.name()] = rule.fired();
  }
  std::vector<std::string> rules;
  for (const sim::RuleStatus& rule : after.rules()) {
    const uint64_t fired = Delta(fired_before[rule.name()], rule.fired());
    std::string line =
        absl::StrCat(rule.name(), " fired ", Plural(fired, "time", "times"));
    if (rule.errors() > 0) {
      absl::StrAppend(&line, " (", Plural(rule.errors(), "action", "actions"),
                      " failed: ", rule.last_error(), ")");
    }
    rules.push_back(std::move(line));
  }
  if (!rules.empty()) {
    out << "rules:     " << absl::StrJoin(rules, "\n           ") << "\n";
  }
}

}  // namespace xehil
