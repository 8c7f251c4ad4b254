// `xehil-lab status`: GetInfo on every selected host at once (bounded
// fan-out, per-RPC deadline, UNAVAILABLE retries) and one table row per
// host. Hosts that cannot be reached get a row with their error; they do
// not stop the others.
//
//   xehil-lab status --inventory=lab.textproto
//   HOST   ADDRESS          STATE        BACKEND  DEVICE ...
//   sim-1  127.0.0.1:41003  up           sim      sim dg2-16g ...
//   sim-2  127.0.0.1:41007  UNAVAILABLE  -        failed to connect ...
//   2 hosts: 1 up, 1 down
#ifndef XEHIL_TOOLS_LAB_STATUS_COMMAND_H_
#define XEHIL_TOOLS_LAB_STATUS_COMMAND_H_

#include <ostream>
#include <string>

#include "proto/lab_controller.pb.h"
#include "tools/lab/lab_hosts.h"

namespace xehil::lab {

struct StatusOptions {
  std::string format = "table";  // or "json" (a LabStatus)
  bool require_all = false;      // exit 1 unless every host is up
};

// GetInfo on every host of `lab`, rows in selection order.
LabStatus CollectStatus(LabHosts& lab);

// The table, with a closing count line.
std::string FormatStatusTable(const LabStatus& status);

// Prints the table (or JSON). 0 once printed (with require_all: only if
// every host is up), 1 otherwise.
int RunStatus(LabHosts& lab, const StatusOptions& options, std::ostream& out,
              std::ostream& err);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_STATUS_COMMAND_H_
