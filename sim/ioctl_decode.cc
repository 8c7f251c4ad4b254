#include "sim/ioctl_decode.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace xehil::sim {
namespace {

bool IsVramPlacement(const DeviceProfile& profile, uint32_t placement) {
  for (const MemRegionSpec& region : profile.regions) {
    if (region.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM &&
        region.instance < 32 && (placement & (1u << region.instance))) {
      return true;
    }
  }
  return false;
}

// The bytes a DEVICE_QUERY returns, or -EINVAL for an unknown query.
int QueryPayload(const Device& device, uint32_t query,
                 std::vector<uint8_t>* out) {
  if (query == DRM_XE_DEVICE_QUERY_MEM_REGIONS) {
    std::vector<drm_xe_mem_region> regions = device.MemRegions();
    drm_xe_query_mem_regions head{};
    head.num_mem_regions = static_cast<uint32_t>(regions.size());
    out->resize(sizeof(head) + regions.size() * sizeof(drm_xe_mem_region));
    std::memcpy(out->data(), &head, sizeof(head));
    if (!regions.empty()) {
      std::memcpy(out->data() + sizeof(head), regions.data(),
                  regions.size() * sizeof(drm_xe_mem_region));
    }
    return 0;
  }
  if (query == DRM_XE_DEVICE_QUERY_ENGINES) {
    const std::vector<EngineSpec>& engines = device.profile().engines;
    drm_xe_query_engines head{};
    head.num_engines = static_cast<uint32_t>(engines.size());
    out->resize(sizeof(head) + engines.size() * sizeof(drm_xe_engine));
    std::memcpy(out->data(), &head, sizeof(head));
    for (size_t i = 0; i < engines.size(); ++i) {
      drm_xe_engine engine{};
      engine.instance.engine_class = engines[i].engine_class;
      engine.instance.engine_instance = engines[i].engine_instance;
      engine.instance.gt_id = engines[i].gt_id;
      std::memcpy(out->data() + sizeof(head) + i * sizeof(engine), &engine,
                  sizeof(engine));
    }
    return 0;
  }
  return -EINVAL;
}

int DeviceQuery(Device& device, drm_xe_device_query* q) {
  if (q->extensions != 0 || q->reserved[0] != 0 || q->reserved[1] != 0) {
    return -EINVAL;
  }
  std::vector<uint8_t> payload;
  if (int rc = QueryPayload(device, q->query, &payload); rc != 0) return rc;
  if (q->size == 0) {  // first call of the two: report the size
    q->size = static_cast<uint32_t>(payload.size());
    return 0;
  }
  if (q->size != payload.size()) return -EINVAL;
  if (q->data == 0) return -EFAULT;
  std::memcpy(internal::UserPtr<void>(q->data), payload.data(), payload.size());
  return 0;
}

int GemCreate(Device& device, FileId file, drm_xe_gem_create* a) {
  constexpr uint32_t kKnownFlags = DRM_XE_GEM_CREATE_FLAG_DEFER_BACKING |
                                   DRM_XE_GEM_CREATE_FLAG_SCANOUT |
                                   DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM;
  if (a->extensions != 0 || a->pad[0] != 0 || a->pad[1] != 0 ||
      a->pad[2] != 0 || a->reserved[0] != 0 || a->reserved[1] != 0) {
    return -EINVAL;
  }
  if ((a->flags & ~kKnownFlags) != 0 || a->handle != 0) return -EINVAL;
  const bool vram = IsVramPlacement(device.profile(), a->placement);
  if ((a->flags & DRM_XE_GEM_CREATE_FLAG_NEEDS_VISIBLE_VRAM) && !vram) {
    return -EINVAL;
  }
  // The driver insists on a CPU caching mode, WC for anything VRAM-capable
  // and for scanout.
  if (a->cpu_caching == 0 || a->cpu_caching > DRM_XE_GEM_CPU_CACHING_WC) {
    return -EINVAL;
  }
  if ((vram || (a->flags & DRM_XE_GEM_CREATE_FLAG_SCANOUT)) &&
      a->cpu_caching != DRM_XE_GEM_CPU_CACHING_WC) {
    return -EINVAL;
  }
  uint32_t handle = 0;
  int rc =
      device.CreateBo(file, a->size, a->placement, a->flags, a->vm_id, &handle);
  if (rc == 0) a->handle = handle;
  return rc;
}

int GemClose(Device& device, FileId file, drm_gem_close* a) {
  if (a->pad != 0) return -EINVAL;
  return device.CloseBo(file, a->handle);
}

int VmCreate(Device& device, FileId file, drm_xe_vm_create* a) {
  constexpr uint32_t kKnownFlags = DRM_XE_VM_CREATE_FLAG_SCRATCH_PAGE |
                                   DRM_XE_VM_CREATE_FLAG_LR_MODE |
                                   DRM_XE_VM_CREATE_FLAG_FAULT_MODE |
                                   DRM_XE_VM_CREATE_FLAG_NO_VM_OVERCOMMIT |
                                   DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  const uint32_t flags = a->flags;
  if (a->extensions != 0 || a->reserved[0] != 0 || a->reserved[1] != 0) {
    return -EINVAL;
  }
  if ((flags & ~kKnownFlags) != 0) return -EINVAL;
  const bool lr = flags & DRM_XE_VM_CREATE_FLAG_LR_MODE;
  const bool fault = flags & DRM_XE_VM_CREATE_FLAG_FAULT_MODE;
  if (fault && (!lr || !device.profile().supports_fault_mode)) return -EINVAL;
  if ((flags & DRM_XE_VM_CREATE_FLAG_RESTARTABLE) && (!lr || fault)) {
    return -EINVAL;
  }
  uint32_t vm_id = 0;
  int rc = device.CreateVm(file, flags, &vm_id);
  if (rc == 0) a->vm_id = vm_id;
  return rc;
}

int VmDestroy(Device& device, FileId file, drm_xe_vm_destroy* a) {
  if (a->pad != 0 || a->reserved[0] != 0 || a->reserved[1] != 0) return -EINVAL;
  return device.DestroyVm(file, a->vm_id);
}

int ExecQueueCreate(Device& device, FileId file, drm_xe_exec_queue_create* a) {
  if (a->extensions != 0 || a->flags != 0 || a->reserved[0] != 0 ||
      a->reserved[1] != 0) {
    return -EINVAL;
  }
  if (a->width != 1 || a->num_placements != 1) return -EINVAL;
  const auto* engine =
      internal::UserPtr<const drm_xe_engine_class_instance>(a->instances);
  if (engine == nullptr) return -EFAULT;
  const std::vector<EngineSpec>& engines = device.profile().engines;
  bool known =
      engine->pad == 0 &&
      std::any_of(engines.begin(), engines.end(), [&](const EngineSpec& e) {
        return e.engine_class == engine->engine_class &&
               e.engine_instance == engine->engine_instance &&
               e.gt_id == engine->gt_id;
      });
  if (!known) return -EINVAL;
  uint32_t id = 0;
  int rc = device.CreateExecQueue(file, a->vm_id, *engine, &id);
  if (rc == 0) a->exec_queue_id = id;
  return rc;
}

int ExecQueueDestroy(Device& device, FileId file,
                     drm_xe_exec_queue_destroy* a) {
  if (a->pad != 0 || a->reserved[0] != 0 || a->reserved[1] != 0) return -EINVAL;
  return device.DestroyExecQueue(file, a->exec_queue_id);
}

int VmRestart(Device& device, FileId file, drm_xe_vm_restart* a) {
  if (a->pad != 0 || a->reserved != 0) return -EINVAL;
  return device.RestartVm(file, a->vm_id, a->timestamp_ns);
}

int WatchQueue(Device& device, FileId file, drm_xe_watch_queue* a) {
  if (a->flags != 0 || a->pad != 0 || a->watch_id > 255) return -EINVAL;
  return device.WatchQueue(file, static_cast<int>(a->fd),
                           static_cast<uint8_t>(a->watch_id));
}

// DRM core: copies as much of each string as fits and reports full lengths.
int Version(drm_version* v) {
  auto copy = [](const char* text, __kernel_size_t* len, char* buf) {
    const size_t n = std::strlen(text);
    if (buf != nullptr && *len > 0) {
      std::memcpy(buf, text, std::min<size_t>(n, *len));
    }
    *len = n;
  };
  v->version_major = 1;
  v->version_minor = 1;
  v->version_patchlevel = 0;
  copy("xe", &v->name_len, v->name);
  copy("20201103", &v->date_len, v->date);
  copy("Intel Xe Graphics (xehil simulator)", &v->desc_len, v->desc);
  return 0;
}

}  // namespace

std::string IoctlName(unsigned long request) {
  switch (request) {
    case DRM_IOCTL_VERSION:
      return "VERSION";
    case DRM_IOCTL_GEM_CLOSE:
      return "GEM_CLOSE";
    case DRM_IOCTL_XE_DEVICE_QUERY:
      return "DEVICE_QUERY";
    case DRM_IOCTL_XE_GEM_CREATE:
      return "GEM_CREATE";
    case DRM_IOCTL_XE_VM_CREATE:
      return "VM_CREATE";
    case DRM_IOCTL_XE_VM_DESTROY:
      return "VM_DESTROY";
    case DRM_IOCTL_XE_VM_BIND:
      return "VM_BIND";
    case DRM_IOCTL_XE_EXEC_QUEUE_CREATE:
      return "EXEC_QUEUE_CREATE";
    case DRM_IOCTL_XE_EXEC_QUEUE_DESTROY:
      return "EXEC_QUEUE_DESTROY";
    case DRM_IOCTL_XE_VM_RESTART:
      return "VM_RESTART";
    case DRM_IOCTL_XE_WATCH_QUEUE:
      return "WATCH_QUEUE";
    default:
      return "UNKNOWN";
  }
}

int DispatchIoctl(Device& device, FileId file, unsigned long request,
                  void* arg) {
  if (IoctlName(request) == "UNKNOWN") return -ENOTTY;
  if (arg == nullptr) return -EFAULT;
  switch (request) {
    case DRM_IOCTL_VERSION:
      return Version(static_cast<drm_version*>(arg));
    case DRM_IOCTL_GEM_CLOSE:
      return GemClose(device, file, static_cast<drm_gem_close*>(arg));
    case DRM_IOCTL_XE_DEVICE_QUERY:
      return DeviceQuery(device, static_cast<drm_xe_device_query*>(arg));
    case DRM_IOCTL_XE_GEM_CREATE:
      return GemCreate(device, file, static_cast<drm_xe_gem_create*>(arg));
    case DRM_IOCTL_XE_VM_CREATE:
      return VmCreate(device, file, static_cast<drm_xe_vm_create*>(arg));
    case DRM_IOCTL_XE_VM_DESTROY:
      return VmDestroy(device, file, static_cast<drm_xe_vm_destroy*>(arg));
    case DRM_IOCTL_XE_VM_BIND:
      return internal::VmBind(device, file, static_cast<drm_xe_vm_bind*>(arg));
    case DRM_IOCTL_XE_EXEC_QUEUE_CREATE:
      return ExecQueueCreate(device, file,
                             static_cast<drm_xe_exec_queue_create*>(arg));
    case DRM_IOCTL_XE_EXEC_QUEUE_DESTROY:
      return ExecQueueDestroy(device, file,
                              static_cast<drm_xe_exec_queue_destroy*>(arg));
    case DRM_IOCTL_XE_VM_RESTART:
      return VmRestart(device, file, static_cast<drm_xe_vm_restart*>(arg));
    case DRM_IOCTL_XE_WATCH_QUEUE:
      return WatchQueue(device, file, static_cast<drm_xe_watch_queue*>(arg));
  }
  return -ENOTTY;
}

}  // namespace xehil::sim
