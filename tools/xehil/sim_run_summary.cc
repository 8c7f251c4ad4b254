#include "tools/xehil/sim_run_summary.h"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace xehil {
namespace {

using IoctlCounts = std::map<std::string, std::map<int, uint64_t>>;

IoctlCounts Ioctls(const sim::Counters& counters) {
  IoctlCounts counts;
  for (const sim::IoctlCount& c : counters.ioctls()) {
    counts[c.name()][c.result()] += c.count();
  }
  return counts;
}

uint64_t Delta(uint64_t before, uint64_t after) {
  return after > before ? after - before : 0;
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace

void PrintSimRunSummary(const sim::DeviceStatus& before,
                        const sim::DeviceStatus& after, std::ostream& out) {
  const sim::Counters& b = before.counters();
  const sim::Counters& a = after.counters();
  out << "simulated device: " << after.description() << "\n";
  out << "files:     "
      << Delta(before.daemon().files_opened(), after.daemon().files_opened())
      << " opened, "
      << Delta(before.daemon().files_released(),
               after.daemon().files_released())
      << " released";
  if (after.files_size() > 0) {
    out << " (" << after.files_size() << " still open on the daemon)";
  }
  out << "\n";

  const IoctlCounts old_counts = Ioctls(b);
  std::vector<std::string> lines;
  for (const auto& [name, by_result] : Ioctls(a)) {
    std::vector<std::string> parts;
    // Negative errnos sort before 0 in the map; "ok" goes first.
    auto old_name = old_counts.find(name);
    auto delta_of = [&](int result, uint64_t count) {
      uint64_t was = 0;
      if (old_name != old_counts.end()) {
        auto it = old_name->second.find(result);
        if (it != old_name->second.end()) was = it->second;
      }
      return Delta(was, count);
    };
    auto ok = by_result.find(0);
    if (ok != by_result.end() && delta_of(0, ok->second) > 0) {
      parts.push_back(absl::StrCat(delta_of(0, ok->second), " ok"));
    }
    for (const auto& [result, count] : by_result) {
      if (result == 0 || delta_of(result, count) == 0) continue;
      std::string errno_name;
      for (const sim::IoctlCount& c : a.ioctls()) {
        if (c.name() == name && c.result() == result)
          errno_name = c.errno_name();
      }
      parts.push_back(
          absl::StrCat(delta_of(result, count), " ",
                       errno_name.empty() ? absl::StrCat(result) : errno_name));
    }
    if (parts.empty()) continue;
    lines.push_back(
        absl::StrFormat("%-18s %s", name, absl::StrJoin(parts, ", ")));
  }
  if (lines.empty()) {
    out << "ioctls:    none (did the program open a render node? LD_PRELOAD "
           "does not reach static or setuid programs)\n";
  } else {
    out << "ioctls:    " << absl::StrJoin(lines, "\n           ") << "\n";
  }

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
