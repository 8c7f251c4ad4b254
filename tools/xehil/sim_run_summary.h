// What `xehil sim-run` prints when the program exits: what the simulated
// device saw between two xehil-simd status snapshots (before the program
// started, after its files were released), so a shared daemon's earlier
// history is left out.
//
//   PrintSimRunSummary(before.status(), after.status(), pid, std::cerr);
//
//   simulated device: simulated dg2-16g (VRAM 16 GiB)
//   files:     1 opened, 1 released
//   ioctls:    VM_CREATE        1 ok
//              VM_RESTART       1 ok, 1 EALREADY
//   device:    every client in the meantime: 2 files opened, ...
//   records:   1 posted, 0 refused, 0 dropped by script, 0 unwatched; ...
#ifndef XEHIL_TOOLS_XEHIL_SIM_RUN_SUMMARY_H_
#define XEHIL_TOOLS_XEHIL_SIM_RUN_SUMMARY_H_

#include <cstdint>
#include <ostream>

#include "proto/simd.pb.h"

namespace xehil {

// `program` is the program's pid (0: it did not run): files and ioctls are
// its own and its children's; a "device:" line gives every client's total,
// and the lines after it (records, rebinds, VMs, restarts, rules) are the
// device's.
void PrintSimRunSummary(const sim::DeviceStatus& before,
                        const sim::DeviceStatus& after, uint32_t program,
                        std::ostream& out);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_SIM_RUN_SUMMARY_H_
