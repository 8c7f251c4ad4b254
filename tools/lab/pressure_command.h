// `xehil-lab pressure acquire|renew|release`: memory-pressure leases on the
// selected hosts (proto/lab.proto, Lease).
//
//   xehil-lab pressure acquire --hosts=gpu=xe --provider=xe-vram
//       --fraction=0.5 --region=1 --ttl=2m
//   dg2-a | acquired lease-3f9c-1: xe-vram region 1: 8.0 GiB, ttl 2m
//   xehil-lab pressure release --hosts=gpu=xe --all
//
// acquire is all or nothing across hosts: when one host refuses, the leases
// taken on the others are released again and the command exits 1. Without
// --hold a lease lives until its TTL (renew moves it, release ends it).
// With --hold the command opens a HoldLeases stream per host and binds the
// leases to it, then stays until SIGINT/SIGTERM, the hold duration, or every
// lease ended; on the way out it releases them. If the command dies (even
// by SIGKILL) the agents see the streams drop and release the leases at
// once. Nothing is renewed while holding: a lease still ends at its TTL,
// which with --hold defaults to the hold duration plus 10 s, or the agent's
// longest TTL when holding until a signal.
//
// renew and release take lease ids (--lease=ID[,ID...]) and try each on
// every selected host (ids are unique per agent); an id found on no host
// is an error. release --all ends every lease the hosts list.
#ifndef XEHIL_TOOLS_LAB_PRESSURE_COMMAND_H_
#define XEHIL_TOOLS_LAB_PRESSURE_COMMAND_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/lab/lab_hosts.h"
#include "tools/lab/stop_notice.h"

namespace xehil::lab {

inline constexpr absl::Duration kDefaultLeaseTtl = absl::Seconds(30);

struct PressureOptions {
  std::string action;  // "acquire", "renew" or "release"
  std::string provider = "sim";
  uint64_t bytes = 0;
  double fraction = 0;  // used when bytes is 0
  uint32_t region = 1;
  std::optional<absl::Duration> ttl;  // unset: see above
  bool hold = false;
  absl::Duration hold_for = absl::InfiniteDuration();
  std::vector<std::string> lease_ids;  // renew, release
  bool all = false;                    // release
  std::string note = "xehil-lab";
};

// Runs the action. `stop` ends a hold (SignalThread notifies it). Returns
// the exit code: 0 when every host did its part, 1 otherwise.
int RunPressure(LabHosts& lab, const PressureOptions& options, StopNotice* stop,
                std::ostream& out, std::ostream& err);

// The hold part of acquire (pressure_hold.cc).
int AcquireAndHold(LabHosts& lab, const PressureOptions& options,
                   StopNotice* stop, std::ostream& out, std::ostream& err);

// The request RunPressure sends (without TTL and stream binding).
AcquirePressureRequest MakeAcquireRequest(const PressureOptions& options);

// "acquired lease-x-1: sim region 1: 64.0 MiB, ttl 30s".
std::string DescribeAcquired(const Lease& lease);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_PRESSURE_COMMAND_H_
