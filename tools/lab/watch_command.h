// `xehil-lab watch`: the VM-error events the selected hosts' agents see
// (WatchEvents), merged into one stream of lines prefixed with the host.
//
//   xehil-lab watch --hosts=all --count=10
//   watching 3 hosts
//   sim-1 | 12:00:01.234567  transient_enomem  VM_ERR vm=1 error=-ENOMEM ...
//   sim-2 | watch stream lost: UNAVAILABLE: Socket closed
//
// Ends after --count events (over all hosts), after --duration, on
// SIGINT/SIGTERM, or when every stream has ended. A host whose stream
// cannot be opened or drops is reported on its own line and makes the exit
// code 1; the others carry on. With --format=json each event is one JSON
// object per line: {"host": ..., "event": <lab.AgentEvent>}.
#ifndef XEHIL_TOOLS_LAB_WATCH_COMMAND_H_
#define XEHIL_TOOLS_LAB_WATCH_COMMAND_H_

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "tools/lab/lab_hosts.h"
#include "tools/lab/stop_notice.h"

namespace xehil::lab {

struct WatchOptions {
  int count = 0;  // 0: no limit
  absl::Duration duration = absl::InfiniteDuration();
  std::string format = "text";  // or "json"
};

int RunWatch(LabHosts& lab, const WatchOptions& options, StopNotice* stop,
             std::ostream& out, std::ostream& err);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_WATCH_COMMAND_H_
