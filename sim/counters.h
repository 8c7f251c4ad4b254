// sim::DeviceCounters: what a simulated device has seen, for tools, reports
// and tests. A snapshot is returned by Device::counters().
//
//   DeviceCounters c = device->counters();
//   EXPECT_EQ(c.Ioctls("VM_RESTART", -EAGAIN), 2u);
#ifndef XEHIL_SIM_COUNTERS_H_
#define XEHIL_SIM_COUNTERS_H_

#include <cstdint>
#include <map>
#include <string>

namespace xehil::sim {

struct DeviceCounters {
  // ioctls[name][result]: calls by ioctl name ("VM_CREATE", "GEM_CLOSE", ...,
  // "UNKNOWN") and result (0 or a negative errno).
  std::map<std::string, std::map<int, uint64_t>> ioctls;

  // Records, counted per pipe they were offered to (one VM_ERR for a file
  // with two watches counts twice), except `records_dropped`, which counts
  // events the fault script dropped before they reached any pipe.
  uint64_t records_posted = 0;     // queued on a pipe
  uint64_t records_refused = 0;    // the queue refused: full, filtered, unsized
  uint64_t records_dropped = 0;    // dropped by the fault script
  uint64_t records_unwatched = 0;  // VM_ERR for a file without watches
  uint64_t removals_posted = 0;    // removal records queued

  // Preempt-rebind worker and VM states.
  uint64_t evictions = 0;             // BOs evicted from a region
  uint64_t rebinds = 0;               // rebinds run (worker and VM_RESTART)
  uint64_t rebind_failures = 0;       // rebinds that ended in an error
  uint64_t rebind_again_retries = 0;  // -EAGAIN retried by the worker
  uint64_t vms_paused = 0;            // restartable VMs put in error
  uint64_t vms_banned = 0;            // non-restartable VMs killed

  // VM_RESTART calls that reached a paused VM, and how they ended.
  uint64_t restarts = 0;
  uint64_t restarts_succeeded = 0;  // rebind succeeded, VM healthy
  uint64_t restarts_failed = 0;     // rebind failed again: new VM_ERR
  uint64_t restarts_again = 0;      // -EAGAIN returned
  // Restarts that carried a record timestamp (the driver logs the latency).
  uint64_t restart_latency_samples = 0;
  uint64_t last_restart_latency_ns = 0;

  uint64_t Ioctls(const std::string& name, int result) const {
    auto by_name = ioctls.find(name);
    if (by_name == ioctls.end()) return 0;
    auto by_result = by_name->second.find(result);
    return by_result == by_name->second.end() ? 0 : by_result->second;
  }
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_COUNTERS_H_
