#include "core/device/xe_device.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace xehil {
namespace {

constexpr const char* QueryName(uint32_t query) {
  return query == DRM_XE_DEVICE_QUERY_MEM_REGIONS ? "MEM_REGIONS" : "ENGINES";
}

std::string Hex(uint64_t value) { return absl::StrFormat("%#x", value); }

// The two-call DEVICE_QUERY: size 0 asks for the size, then the data. The
// buffer is 8-byte aligned for the u64 fields of the returned structs.
absl::StatusOr<std::vector<uint64_t>> Query(KernelBackend& backend,
                                            uint32_t query, size_t header,
                                            uint32_t* size_out) {
  drm_xe_device_query q{};
  q.query = query;
  int rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &q);
  if (rc != 0) {
    return ErrnoToStatus(
        rc, absl::StrCat("DEVICE_QUERY ", QueryName(query), " size"));
  }
  if (q.size < header) {
    return absl::DataLossError(
        absl::StrCat("DEVICE_QUERY ", QueryName(query), ": kernel asked for ",
                     q.size, " bytes, less than the ", header, "-byte header"));
  }
  std::vector<uint64_t> buffer((q.size + 7) / 8, 0);
  q.data = reinterpret_cast<uintptr_t>(buffer.data());
  rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &q);
  if (rc != 0) {
    return ErrnoToStatus(rc, absl::StrCat("DEVICE_QUERY ", QueryName(query),
                                          " (", q.size, " bytes)"));
  }
  *size_out = q.size;
  return buffer;
}

// DATA_LOSS unless `count` entries of `entry` bytes fit after the header.
absl::Status CheckFits(uint32_t query, uint32_t count, size_t header,
                       size_t entry, uint32_t size) {
  if (count > (size - header) / entry) {
    return absl::DataLossError(absl::StrCat("DEVICE_QUERY ", QueryName(query),
                                            ": kernel reported ", count,
                                            " entries in ", size, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<MemRegion>> XeDevice::QueryMemRegions() {
  constexpr uint32_t kQuery = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  constexpr size_t kHeader = sizeof(drm_xe_query_mem_regions);
  uint32_t size = 0;
  XEHIL_ASSIGN_OR_RETURN(std::vector<uint64_t> buffer,
                         Query(backend_, kQuery, kHeader, &size));
  const auto* reply =
      reinterpret_cast<const drm_xe_query_mem_regions*>(buffer.data());
  XEHIL_RETURN_IF_ERROR(CheckFits(kQuery, reply->num_mem_regions, kHeader,
                                  sizeof(drm_xe_mem_region), size));
  std::vector<MemRegion> regions;
  regions.reserve(reply->num_mem_regions);
  for (uint32_t i = 0; i < reply->num_mem_regions; ++i) {
    const drm_xe_mem_region& r = reply->mem_regions[i];
    MemRegion region;
    region.mem_class = r.mem_class;
    region.instance = r.instance;
    region.min_page_size = r.min_page_size;
    region.total_size = r.total_size;
    region.used = r.used;
    region.cpu_visible_size = r.cpu_visible_size;
    regions.push_back(region);
  }
  return regions;
}

absl::StatusOr<std::vector<EngineInfo>> XeDevice::QueryEngines() {
  constexpr uint32_t kQuery = DRM_XE_DEVICE_QUERY_ENGINES;
  constexpr size_t kHeader = sizeof(drm_xe_query_engines);
  uint32_t size = 0;
  XEHIL_ASSIGN_OR_RETURN(std::vector<uint64_t> buffer,
                         Query(backend_, kQuery, kHeader, &size));
  const auto* reply =
      reinterpret_cast<const drm_xe_query_engines*>(buffer.data());
  XEHIL_RETURN_IF_ERROR(CheckFits(kQuery, reply->num_engines, kHeader,
                                  sizeof(drm_xe_engine), size));
  std::vector<EngineInfo> engines;
  engines.reserve(reply->num_engines);
  for (uint32_t i = 0; i < reply->num_engines; ++i) {
    const drm_xe_engine_class_instance& e = reply->engines[i].instance;
    engines.push_back(EngineInfo{e.engine_class, e.engine_instance, e.gt_id});
  }
  return engines;
}

absl::StatusOr<uint32_t> XeDevice::CreateVm(uint32_t flags) {
  drm_xe_vm_create create{};
  create.flags = flags;
  absl::MutexLock lifecycle(&lifecycle_mu_);
  XEHIL_RETURN_IF_ERROR(
      Call(DRM_IOCTL_XE_VM_CREATE, &create, "VM_CREATE flags ", Hex(flags)));
  if (flags & DRM_XE_VM_CREATE_FLAG_RESTARTABLE) {
    absl::MutexLock lock(&mu_);
    restartable_vms_.insert(create.vm_id);
  }
  return create.vm_id;
}

absl::Status XeDevice::DestroyVm(uint32_t vm_id) {
  drm_xe_vm_destroy destroy{};
  destroy.vm_id = vm_id;
  absl::MutexLock lifecycle(&lifecycle_mu_);
  absl::Status status =
      Call(DRM_IOCTL_XE_VM_DESTROY, &destroy, "VM_DESTROY vm ", vm_id);
  if (status.ok() || StatusErrno(status) == -ENOENT) {
    absl::MutexLock lock(&mu_);
    restartable_vms_.erase(vm_id);
    auto [first, last] = BindingsOfLocked(vm_id);
    bindings_.erase(first, last);
  }
  return status;
}

absl::StatusOr<uint32_t> XeDevice::CreateBo(uint64_t size, uint32_t placement,
                                            uint32_t vm_id, uint32_t flags) {
  drm_xe_gem_create create{};
  create.size = size;
  create.placement = placement;
  create.flags = flags;
  create.vm_id = vm_id;
  // The kernel requires a CPU caching mode; VRAM (any placement bit beyond
  // system memory's instance 0) must be write-combined.
  create.cpu_caching = (placement & ~1u) != 0 ? DRM_XE_GEM_CPU_CACHING_WC
                                              : DRM_XE_GEM_CPU_CACHING_WB;
  XEHIL_RETURN_IF_ERROR(Call(DRM_IOCTL_XE_GEM_CREATE, &create,
                             "GEM_CREATE size ", size, " placement ",
                             Hex(placement), " vm ", vm_id));
  return create.handle;
}

absl::Status XeDevice::CloseBo(uint32_t handle) {
  drm_gem_close close{};
  close.handle = handle;
  return Call(DRM_IOCTL_GEM_CLOSE, &close, "GEM_CLOSE bo ", handle);
}

absl::Status XeDevice::BindBo(uint32_t vm_id, uint32_t bo, uint64_t offset,
                              uint64_t addr, uint64_t range) {
  drm_xe_vm_bind bind{};
  bind.vm_id = vm_id;
  bind.num_binds = 1;
  bind.bind.obj = bo;
  bind.bind.obj_offset = offset;
  bind.bind.addr = addr;
  bind.bind.range = range;
  bind.bind.op = DRM_XE_VM_BIND_OP_MAP;
  XEHIL_RETURN_IF_ERROR(Call(DRM_IOCTL_XE_VM_BIND, &bind, "VM_BIND vm ", vm_id,
                             " map bo ", bo, " offset ", Hex(offset), " at ",
                             Hex(addr), " range ", Hex(range)));
  absl::MutexLock lock(&mu_);
  CutBindingsLocked(vm_id, addr, range);
  bindings_[{vm_id, addr}] = Binding{bo, offset, addr, range};
  return absl::OkStatus();
}

absl::Status XeDevice::Unbind(uint32_t vm_id, uint64_t addr, uint64_t range) {
  drm_xe_vm_bind bind{};
  bind.vm_id = vm_id;
  bind.num_binds = 1;
  bind.bind.addr = addr;
  bind.bind.range = range;
  bind.bind.op = DRM_XE_VM_BIND_OP_UNMAP;
  XEHIL_RETURN_IF_ERROR(Call(DRM_IOCTL_XE_VM_BIND, &bind, "VM_BIND vm ", vm_id,
                             " unmap at ", Hex(addr), " range ", Hex(range)));
  absl::MutexLock lock(&mu_);
  CutBindingsLocked(vm_id, addr, range);
  return absl::OkStatus();
}

std::pair<XeDevice::BindingIt, XeDevice::BindingIt> XeDevice::BindingsOfLocked(
    uint32_t vm_id) {
  BindingIt first = bindings_.lower_bound({vm_id, 0});
  BindingIt last = first;
  while (last != bindings_.end() && last->first.first == vm_id) ++last;
  return {first, last};
}

void XeDevice::CutBindingsLocked(uint32_t vm_id, uint64_t addr,
                                 uint64_t range) {
  if (range == 0) return;
  const uint64_t end = addr + range;
  std::vector<Binding> kept;  // the parts outside [addr, end)
  // No end iterator kept: erasing from a B-tree invalidates it.
  auto it = bindings_.lower_bound({vm_id, 0});
  while (it != bindings_.end() && it->first.first == vm_id) {
    const Binding b = it->second;
    const uint64_t b_end = b.addr + b.range;
    if (b_end <= addr || b.addr >= end) {
      ++it;
      continue;
    }
    if (b.addr < addr) kept.push_back({b.bo, b.offset, b.addr, addr - b.addr});
    if (b_end > end) {
      kept.push_back({b.bo, b.offset + (end - b.addr), end, b_end - end});
    }
    it = bindings_.erase(it);
  }
  for (const Binding& b : kept) bindings_[{vm_id, b.addr}] = b;
}

absl::StatusOr<uint32_t> XeDevice::CreateExecQueue(uint32_t vm_id,
                                                   const EngineInfo& engine) {
  drm_xe_engine_class_instance instance{};
  instance.engine_class = engine.engine_class;
  instance.engine_instance = engine.engine_instance;
  instance.gt_id = engine.gt_id;
  drm_xe_exec_queue_create create{};
  create.width = 1;
  create.num_placements = 1;
  create.vm_id = vm_id;
  create.instances = reinterpret_cast<uintptr_t>(&instance);
  XEHIL_RETURN_IF_ERROR(Call(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &create,
                             "EXEC_QUEUE_CREATE vm ", vm_id, " engine ",
                             engine.engine_class, ":", engine.engine_instance,
                             " gt ", engine.gt_id));
  return create.exec_queue_id;
}

absl::Status XeDevice::DestroyExecQueue(uint32_t exec_queue_id) {
  drm_xe_exec_queue_destroy destroy{};
  destroy.exec_queue_id = exec_queue_id;
  return Call(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &destroy,
              "EXEC_QUEUE_DESTROY queue ", exec_queue_id);
}

absl::StatusOr<RestartOutcome> XeDevice::RestartVm(uint32_t vm_id,
                                                   uint64_t timestamp_ns,
                                                   int max_tries) {
  if (max_tries < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "VM_RESTART vm ", vm_id, ": max_tries must be >= 1, got ", max_tries));
  }
  for (int tries = 1;; ++tries) {
    // A fresh struct each try: the kernel may not write it, but nothing says
    // so.
    drm_xe_vm_restart restart{};
    restart.vm_id = vm_id;
    restart.timestamp_ns = timestamp_ns;
    int rc = backend_.Ioctl(DRM_IOCTL_XE_VM_RESTART, &restart);
    if (rc == 0) return RestartOutcome{tries};
    if (rc == -EAGAIN) {
      if (tries < max_tries) continue;
      return ErrnoToStatus(
          rc, absl::StrCat("VM_RESTART vm ", vm_id, " still busy after ", tries,
                           tries == 1 ? " try" : " tries"));
    }
    return ErrnoToStatus(rc, absl::StrCat("VM_RESTART vm ", vm_id));
  }
}

absl::StatusOr<NotificationPipe> XeDevice::WatchQueue(
    uint8_t watch_id, const NotificationPipeOptions& options) {
  XEHIL_ASSIGN_OR_RETURN(NotificationPipe pipe,
                         backend_.OpenNotificationPipe(options));
  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(pipe.read_end.get());
  watch.watch_id = watch_id;
  watch.flags = 0;
  XEHIL_RETURN_IF_ERROR(Call(DRM_IOCTL_XE_WATCH_QUEUE, &watch,
                             "WATCH_QUEUE watch ", watch_id, " fd ",
                             pipe.read_end.get()));
  return pipe;
}

std::vector<uint32_t> XeDevice::RestartableVms() const {
  absl::MutexLock lock(&mu_);
  return std::vector<uint32_t>(restartable_vms_.begin(),
                               restartable_vms_.end());
}

std::vector<Binding> XeDevice::BindingsOf(uint32_t vm_id) const {
  absl::MutexLock lock(&mu_);
  std::vector<Binding> out;
  auto it = bindings_.lower_bound({vm_id, 0});
  for (; it != bindings_.end() && it->first.first == vm_id; ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace xehil
