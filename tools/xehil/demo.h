// `xehil demo`: the recovery loop end to end on the simulated kernel.
//
// Creates restartable LR VMs with bound VRAM BOs on a simulated device,
// subscribes a small notification ring, and drives four failures through the
// real pipe -> listener -> recovery engine -> VM_RESTART path:
//  1. a burst of rebind failures before the listener runs, overflowing the
//     ring (loss record, then a reconcile restarts the VMs whose records
//     were dropped);
//  2. a transient -ENOMEM;
//  3. -ENOSPC under VRAM pressure that is held for several restarts (the
//     engine backs off) and then released;
//  4. a restart that answers -EAGAIN several times before it goes through.
// Events and restarts are printed as they happen; a summary table ends it.
#ifndef XEHIL_TOOLS_XEHIL_DEMO_H_
#define XEHIL_TOOLS_XEHIL_DEMO_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "core/recovery/recovery_engine.h"

namespace xehil {

struct DemoOptions {
  std::string profile = "dg2-16g";
  int vms = 40;             // more than the ring holds, for the burst
  uint32_t ring_notes = 1;  // rounded up to one page: 32 records
  int held_restarts = 6;    // failed restarts before pressure is released
  int eagain_restarts = 3;  // -EAGAIN answers before the restart succeeds
  std::string record_path;  // every byte read from the pipe, if set
  bool quiet = false;       // no per-event lines
};

struct DemoResult {
  int vms = 0;
  int healthy = 0;  // VMs the simulator reports healthy at the end
  RecoveryEngine::Stats engine;
  uint64_t records_read = 0;
  uint64_t bytes_read = 0;
  bool recovered() const { return vms > 0 && healthy == vms; }
};

// Runs the demo, writing progress and the summary to `out`. Errors are setup
// failures (bad profile, unwritable record path); a VM that did not recover
// is reported in the result, not as an error.
absl::StatusOr<DemoResult> RunDemo(const DemoOptions& options,
                                   std::ostream& out);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_DEMO_H_
