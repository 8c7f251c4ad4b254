#include "sim/simd/device_status.h"

#include <map>

#include "core/base/errno_status.h"

namespace xehil::simd {
namespace {

sim::Vm::State StateOf(sim::VmState state) {
  switch (state) {
    case sim::VmState::kHealthy:
      return sim::Vm::HEALTHY;
    case sim::VmState::kPaused:
      return sim::Vm::PAUSED;
    case sim::VmState::kBanned:
      return sim::Vm::BANNED;
  }
  return sim::Vm::STATE_UNSPECIFIED;
}

void FillCounters(const sim::DeviceCounters& in, sim::Counters* out) {
  for (const auto& [name, by_result] : in.ioctls) {
    for (const auto& [result, count] : by_result) {
      sim::IoctlCount* entry = out->add_ioctls();
      entry->set_name(name);
      entry->set_result(result);
      if (result != 0) entry->set_errno_name(ErrnoName(result));
      entry->set_count(count);
    }
  }
  out->set_records_posted(in.records_posted);
  out->set_records_refused(in.records_refused);
  out->set_records_dropped(in.records_dropped);
  out->set_records_unwatched(in.records_unwatched);
  out->set_removals_posted(in.removals_posted);
  out->set_evictions(in.evictions);
  out->set_rebinds(in.rebinds);
  out->set_rebind_failures(in.rebind_failures);
  out->set_rebind_again_retries(in.rebind_again_retries);
  out->set_vms_paused(in.vms_paused);
  out->set_vms_banned(in.vms_banned);
  out->set_restarts(in.restarts);
  out->set_restarts_succeeded(in.restarts_succeeded);
  out->set_restarts_failed(in.restarts_failed);
  out->set_restarts_again(in.restarts_again);
  out->set_restart_latency_samples(in.restart_latency_samples);
  out->set_last_restart_latency_ns(in.last_restart_latency_ns);
}

}  // namespace

void FillDeviceStatus(const sim::Device& device, sim::DeviceStatus* status) {
  status->set_description(device.Description());
  status->set_profile(device.profile().name);
  for (const sim::RegionUsage& usage : device.Regions()) {
    sim::Region* region = status->add_regions();
    region->set_instance(usage.spec.instance);
    region->set_mem_class(usage.spec.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM
                              ? "vram"
                              : "system");
    region->set_total_bytes(usage.spec.total_bytes);
    region->set_used_bytes(usage.used);
    region->set_pressure_bytes(usage.pressure);
  }
  FillCounters(device.counters(), status->mutable_counters());
}

void AddOpenFile(const sim::Device& device, sim::FileId id, uint32_t pid,
                 const std::string& program, uint32_t watches,
                 sim::DeviceStatus* status) {
  sim::OpenFile* file = status->add_files();
  file->set_file_id(id);
  file->set_pid(pid);
  file->set_program(program);
  file->set_watches(watches);
  absl::StatusOr<std::map<uint32_t, sim::VmStatus>> vms = device.ListVms(id);
  if (!vms.ok()) return;
  for (const auto& [vm_id, vm] : *vms) {
    sim::Vm* out = file->add_vms();
    out->set_vm_id(vm_id);
    out->set_flags(vm.flags);
    out->set_state(StateOf(vm.state));
    out->set_error(vm.error);
    out->set_rebind_pending(vm.rebind_pending);
  }
}

}  // namespace xehil::simd
