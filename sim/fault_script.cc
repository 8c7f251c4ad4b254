#include "sim/fault_script.h"

#include <iterator>

namespace xehil::sim {

void FaultScript::FailRebinds(FileId file, uint32_t vm_id, uint32_t count,
                              int error) {
  if (count == 0 || error == 0) return;
  rebind_failures_[{file, vm_id}].emplace_back(error, count);
}

void FaultScript::AgainRestarts(FileId file, uint32_t vm_id, uint32_t count) {
  if (count != 0) restart_agains_[{file, vm_id}] += count;
}

void FaultScript::DropRecords(FileId file, uint32_t count) {
  if (count != 0) record_drops_[file] += count;
}

int FaultScript::TakeRebindFailure(FileId file, uint32_t vm_id) {
  auto it = rebind_failures_.find({file, vm_id});
  if (it == rebind_failures_.end()) return 0;
  auto& [error, remaining] = it->second.front();
  int result = error;
  if (--remaining == 0) it->second.pop_front();
  if (it->second.empty()) rebind_failures_.erase(it);
  return result;
}

bool FaultScript::TakeRestartAgain(FileId file, uint32_t vm_id) {
  auto it = restart_agains_.find({file, vm_id});
  if (it == restart_agains_.end()) return false;
  if (--it->second == 0) restart_agains_.erase(it);
  return true;
}

bool FaultScript::TakeRecordDrop(FileId file) {
  auto it = record_drops_.find(file);
  if (it == record_drops_.end()) return false;
  if (--it->second == 0) record_drops_.erase(it);
  return true;
}

void FaultScript::ForgetVm(FileId file, uint32_t vm_id) {
  rebind_failures_.erase({file, vm_id});
  restart_agains_.erase({file, vm_id});
}

void FaultScript::ForgetFile(FileId file) {
  for (auto it = rebind_failures_.begin(); it != rebind_failures_.end();) {
    it = it->first.first == file ? rebind_failures_.erase(it) : std::next(it);
  }
  for (auto it = restart_agains_.begin(); it != restart_agains_.end();) {
    it = it->first.first == file ? restart_agains_.erase(it) : std::next(it);
  }
  record_drops_.erase(file);
}

uint32_t FaultScript::PendingRebindFailures(FileId file, uint32_t vm_id) const {
  auto it = rebind_failures_.find({file, vm_id});
  if (it == rebind_failures_.end()) return 0;
  uint32_t total = 0;
  for (const auto& run : it->second) total += run.second;
  return total;
}

uint32_t FaultScript::PendingRestartAgains(FileId file, uint32_t vm_id) const {
  auto it = restart_agains_.find({file, vm_id});
  return it == restart_agains_.end() ? 0 : it->second;
}

uint32_t FaultScript::PendingRecordDrops(FileId file) const {
  auto it = record_drops_.find(file);
  return it == record_drops_.end() ? 0 : it->second;
}

}  // namespace xehil::sim
