// sim::FaultScript: deterministic, scripted faults for the simulated kernel,
// independent of the memory model. Each entry is a budget that the Device
// consumes as the matching event happens:
//  - FailRebinds: the next N preempt rebinds of a VM fail with an errno
//    (-EAGAIN is retried by the rebind worker, as the kernel does);
//  - AgainRestarts: the next N VM_RESTART ioctls of a VM return -EAGAIN;
//  - DropRecords: the next N records for a DRM file never reach its pipes.
// VMs are named by (file, vm id) because VM ids are per file.
//
// Not thread-safe: the Device owns one and calls it under its mutex; users
// reach it through Device's fault-script methods.
//
//   script.FailRebinds(file, vm, 2, -ENOSPC);
//   script.TakeRebindFailure(file, vm);  // -> -ENOSPC, then -ENOSPC, then 0
#ifndef XEHIL_SIM_FAULT_SCRIPT_H_
#define XEHIL_SIM_FAULT_SCRIPT_H_

#include <cstdint>
#include <deque>
#include <map>
#include <utility>

namespace xehil::sim {

using FileId = uint64_t;

class FaultScript {
 public:
  // Appends `count` rebind failures with `error` (a negative errno) for the
  // VM; they are consumed in the order scripted.
  void FailRebinds(FileId file, uint32_t vm_id, uint32_t count, int error);
  void AgainRestarts(FileId file, uint32_t vm_id, uint32_t count);
  void DropRecords(FileId file, uint32_t count);

  // Consumes one scripted rebind failure: its errno, or 0 if none is left.
  int TakeRebindFailure(FileId file, uint32_t vm_id);
  // Consumes one scripted -EAGAIN restart: true if there was one.
  bool TakeRestartAgain(FileId file, uint32_t vm_id);
  // Consumes one scripted record drop: true if there was one.
  bool TakeRecordDrop(FileId file);

  // Forgets what is left for a destroyed VM or a released file, so that a
  // later VM reusing the id starts clean.
  void ForgetVm(FileId file, uint32_t vm_id);
  void ForgetFile(FileId file);

  // Budgets not yet consumed (for tools and tests).
  uint32_t PendingRebindFailures(FileId file, uint32_t vm_id) const;
  uint32_t PendingRestartAgains(FileId file, uint32_t vm_id) const;
  uint32_t PendingRecordDrops(FileId file) const;

 private:
  using VmKey = std::pair<FileId, uint32_t>;
  // Runs of (errno, remaining count), oldest first.
  std::map<VmKey, std::deque<std::pair<int, uint32_t>>> rebind_failures_;
  std::map<VmKey, uint32_t> restart_agains_;
  std::map<FileId, uint32_t> record_drops_;
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_FAULT_SCRIPT_H_
