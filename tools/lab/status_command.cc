#include "tools/lab/status_command.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "tools/lab/output.h"

namespace xehil::lab {
namespace {

constexpr size_t kDeviceWidth = 32;

std::string Regions(const AgentInfo& info) {
  std::vector<std::string> parts;
  for (const MemoryRegionInfo& r : info.regions()) {
    parts.push_back(absl::StrCat(r.instance(), ":", HumanBytes(r.used_bytes()),
                                 "/", HumanBytes(r.total_bytes())));
  }
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

std::string Providers(const AgentInfo& info) {
  std::vector<std::string> names;
  for (const ProviderInfo& p : info.providers()) {
    if (p.available()) names.push_back(p.name());
  }
  return names.empty() ? "-" : absl::StrJoin(names, ",");
}

}  // namespace

LabStatus CollectStatus(LabHosts& lab) {
  LabStatus status;
  status.set_unix_ms(absl::ToUnixMillis(absl::Now()));
  status.set_inventory(lab.inventory_path());
  status.set_selector(lab.selector());
  std::vector<HostStatus> rows =
      FanOut<HostStatus>(lab.size(), lab.fanout().parallel, [&](size_t i) {
        HostStatus row;
        HostConnection& conn = lab.host(i);
        row.set_host(conn.name());
        row.set_address(conn.address());
        *row.mutable_labels() = conn.host().labels();
        int attempts = 0;
        absl::Time started;
        absl::Status s = CallWithRetries(
            lab.fanout().retry,
            [&](int) {
              started = absl::Now();
              std::unique_ptr<grpc::ClientContext> context =
                  conn.NewContext(lab.rpc_deadline());
              row.clear_info();
              return FromGrpc(
                  conn.stub().GetInfo(context.get(), {}, row.mutable_info()));
            },
            &attempts);
        row.set_attempts(static_cast<uint32_t>(attempts));
        if (s.ok()) {
          row.set_state("up");
          row.set_latency_us(static_cast<uint64_t>(
              absl::ToInt64Microseconds(absl::Now() - started)));
        } else {
          row.clear_info();
          row.set_state(CodeName(s.code()));
          row.set_error(std::string(s.message()));
        }
        return row;
      });
  for (HostStatus& row : rows) *status.add_hosts() = std::move(row);
  return status;
}

std::string FormatStatusTable(const LabStatus& status) {
  struct Cells {
    std::string host, address, state, backend, device, regions, leases,
        providers;
  };
  std::vector<Cells> table = {{"HOST", "ADDRESS", "STATE", "BACKEND", "DEVICE",
                               "REGIONS (inst:used/total)", "LEASES",
                               "PROVIDERS"}};
  int up = 0;
  for (const HostStatus& h : status.hosts()) {
    Cells c{h.host(), h.address(), h.state()};
    if (h.state() == "up") {
      ++up;
      const AgentInfo& info = h.info();
      c.backend = info.backend();
      c.device = Clip(info.device_error().empty()
                          ? info.device_description()
                          : absl::StrCat("error: ", info.device_error()),
                      kDeviceWidth);
      c.regions = Regions(info);
      c.leases = absl::StrCat(info.leases_size());
      c.providers = Providers(info);
    } else {
      c.backend = "-";
      // The error takes the place of the remaining columns.
      c.device = absl::StrCat(
          h.error(), h.attempts() > 1
                         ? absl::StrCat(" (after ", h.attempts(), " attempts)")
                         : "");
    }
    table.push_back(std::move(c));
  }
  size_t w[7] = {};
  for (const Cells& c : table) {
    const bool down = &c != &table[0] && c.state != "up";
    w[0] = std::max(w[0], c.host.size());
    w[1] = std::max(w[1], c.address.size());
    w[2] = std::max(w[2], c.state.size());
    w[3] = std::max(w[3], c.backend.size());
    if (!down) {
      w[4] = std::max(w[4], c.device.size());
      w[5] = std::max(w[5], c.regions.size());
      w[6] = std::max(w[6], c.leases.size());
    }
  }
  std::string out;
  for (const Cells& c : table) {
    const bool down = &c != &table[0] && c.state != "up";
    std::string line =
        absl::StrFormat("%-*s  %-*s  %-*s  %-*s  ", w[0], c.host, w[1],
                        c.address, w[2], c.state, w[3], c.backend);
    if (down) {
      absl::StrAppend(&line, c.device);
    } else {
      absl::StrAppend(
          &line, absl::StrFormat("%-*s  %-*s  %-*s  %s", w[4], c.device, w[5],
                                 c.regions, w[6], c.leases, c.providers));
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  const int total = status.hosts_size();
  absl::StrAppend(&out, total, total == 1 ? " host: " : " hosts: ", up, " up",
                  total > up ? absl::StrCat(", ", total - up, " down") : "",
                  "\n");
  return out;
}

int RunStatus(LabHosts& lab, const StatusOptions& options, std::ostream& out,
              std::ostream& err) {
  LabStatus status = CollectStatus(lab);
  if (options.format == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.preserve_proto_field_names = false;
    if (!google::protobuf::util::MessageToJsonString(status, &json, print)
             .ok()) {
      err << "xehil-lab: cannot encode the status as JSON\n";
      return 1;
    }
    out << json;
  } else {
    out << FormatStatusTable(status);
  }
  out << std::flush;
  if (!options.require_all) return 0;
  for (const HostStatus& h : status.hosts()) {
    if (h.state() != "up") return 1;
  }
  return 0;
}

}  // namespace xehil::lab
