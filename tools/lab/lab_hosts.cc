#include "tools/lab/lab_hosts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "tools/lab/inventory.h"
#include "tools/lab/selector.h"

namespace xehil::lab {

absl::StatusOr<std::unique_ptr<LabHosts>> LabHosts::Open(
    const LabOptions& options) {
  if (options.inventory_path.empty()) {
    return absl::InvalidArgumentError(
        "no inventory: pass --inventory=PATH or set XEHIL_LAB_INVENTORY");
  }
  if (options.parallel < 1 || options.parallel > 1024) {
    return absl::InvalidArgumentError("--parallel must be 1..1024");
  }
  if (options.attempts < 1 || options.attempts > 10) {
    return absl::InvalidArgumentError("--attempts must be 1..10");
  }
  std::unique_ptr<LabHosts> lab(new LabHosts());
  lab->options_ = options;
  XEHIL_ASSIGN_OR_RETURN(lab->inventory_,
                         LoadInventory(options.inventory_path));
  XEHIL_ASSIGN_OR_RETURN(std::vector<int> selected,
                         SelectHosts(lab->inventory_, options.selector));
  for (int index : selected) {
    const Host& host = lab->inventory_.hosts(index);
    absl::StatusOr<std::unique_ptr<HostConnection>> conn =
        HostConnection::Create(host, CredentialsFor(lab->inventory_, host));
    if (!conn.ok()) {
      return absl::Status(
          conn.status().code(),
          absl::StrCat("host '", host.name(), "': ", conn.status().message()));
    }
    lab->name_width_ = std::max(lab->name_width_, host.name().size());
    lab->hosts_.push_back(*std::move(conn));
  }
  lab->fanout_.parallel = options.parallel;
  lab->fanout_.retry.max_attempts = options.attempts;
  lab->fanout_.retry.initial_backoff = options.initial_backoff;
  if (options.rpc_deadline > absl::ZeroDuration()) {
    lab->rpc_deadline_ = options.rpc_deadline;
  } else if (lab->inventory_.info_deadline_ms() > 0) {
    lab->rpc_deadline_ = absl::Milliseconds(lab->inventory_.info_deadline_ms());
  }
  if (options.run_deadline > absl::ZeroDuration()) {
    lab->run_deadline_ = options.run_deadline;
  } else if (lab->inventory_.run_deadline_ms() > 0) {
    lab->run_deadline_ = absl::Milliseconds(lab->inventory_.run_deadline_ms());
  }
  return lab;
}

}  // namespace xehil::lab
