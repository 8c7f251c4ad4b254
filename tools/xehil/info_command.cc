#include "tools/xehil/info_command.h"

#include <string>

#include "absl/strings/str_format.h"
#include "core/backend/drm_backend.h"
#include "core/device/xe_device.h"

namespace xehil {
namespace {

const char* MemClassName(uint16_t mem_class) {
  return mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? "vram" : "sysmem";
}

const char* EngineClassName(uint16_t engine_class) {
  switch (engine_class) {
    case DRM_XE_ENGINE_CLASS_RENDER:
      return "render";
    case DRM_XE_ENGINE_CLASS_COPY:
      return "copy";
    case DRM_XE_ENGINE_CLASS_VIDEO_DECODE:
      return "video-decode";
    case DRM_XE_ENGINE_CLASS_VIDEO_ENHANCE:
      return "video-enhance";
    case DRM_XE_ENGINE_CLASS_COMPUTE:
      return "compute";
    case DRM_XE_ENGINE_CLASS_VM_BIND:
      return "vm-bind";
    default:
      return "unknown";
  }
}

std::string Gib(uint64_t bytes) {
  return absl::StrFormat("%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
}

}  // namespace

int PrintDeviceInfo(KernelBackend& backend, std::ostream& out) {
  XeDevice device(backend);
  out << "backend:     " << backend.Name() << "\n";
  out << "device:      " << backend.Description() << "\n";
  int rc = 0;
  absl::StatusOr<std::vector<MemRegion>> regions = device.QueryMemRegions();
  if (regions.ok()) {
    out << "memory regions:\n";
    for (const MemRegion& r : *regions) {
      out << absl::StrFormat("  %-6s instance %u  total %s  used %s  page %u\n",
                             MemClassName(r.mem_class), r.instance,
                             Gib(r.total_size), Gib(r.used), r.min_page_size);
    }
  } else {
    out << "memory regions: " << regions.status().message() << "\n";
    rc = 1;
  }
  absl::StatusOr<std::vector<EngineInfo>> engines = device.QueryEngines();
  if (engines.ok()) {
    out << "engines:    ";
    for (const EngineInfo& e : *engines) {
      out << absl::StrFormat(" %s%u(gt%u)", EngineClassName(e.engine_class),
                             e.engine_instance, e.gt_id);
    }
    out << "\n";
  } else {
    out << "engines: " << engines.status().message() << "\n";
    rc = 1;
  }
  absl::StatusOr<NotificationPipe> pipe = backend.OpenNotificationPipe({});
  out << "watch queue: "
      << (pipe.ok() ? std::string("supported")
                    : "unavailable: " + std::string(pipe.status().message()))
      << "\n";
  return rc;
}

void PrintNoDevice(const absl::Status& why, std::ostream& out) {
  out << "device:      unavailable: " << why.message() << "\n";
  absl::Status watch = ProbeWatchQueueSupport();
  out << "watch queue: "
      << (watch.ok() ? std::string("supported by this kernel")
                     : "unavailable: " + std::string(watch.message()))
      << "\n";
}

}  // namespace xehil
