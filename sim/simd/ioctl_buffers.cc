#include "sim/simd/ioctl_buffers.h"

#include <cstring>

#include "core/uapi/xe_uapi.h"

namespace xehil::simd {
namespace {

template <typename T>
bool Load(const uint8_t* arg, size_t size, T* out) {
  if (size != sizeof(T)) return false;
  std::memcpy(out, arg, sizeof(T));
  return true;
}

}  // namespace

std::vector<PointerField> PointerFields(uint64_t request, const uint8_t* arg,
                                        size_t size) {
  std::vector<PointerField> fields;
  switch (request) {
    case DRM_IOCTL_XE_DEVICE_QUERY: {
      drm_xe_device_query q;
      if (!Load(arg, size, &q)) break;
      fields.push_back({offsetof(drm_xe_device_query, data), q.size, -1, true});
      break;
    }
    case DRM_IOCTL_XE_EXEC_QUEUE_CREATE: {
      drm_xe_exec_queue_create q;
      if (!Load(arg, size, &q)) break;
      fields.push_back({offsetof(drm_xe_exec_queue_create, instances),
                        uint64_t{q.width} * q.num_placements *
                            sizeof(drm_xe_engine_class_instance)});
      break;
    }
    case DRM_IOCTL_XE_VM_BIND: {
      drm_xe_vm_bind b;
      if (!Load(arg, size, &b)) break;
      // With one bind the union holds the op itself, not a pointer.
      if (b.num_binds > 1) {
        fields.push_back({offsetof(drm_xe_vm_bind, vector_of_binds),
                          uint64_t{b.num_binds} * sizeof(drm_xe_vm_bind_op)});
      }
      break;
    }
    case DRM_IOCTL_VERSION: {
      drm_version v;
      if (!Load(arg, size, &v)) break;
      fields.push_back({offsetof(drm_version, name), v.name_len,
                        offsetof(drm_version, name_len), true});
      fields.push_back({offsetof(drm_version, date), v.date_len,
                        offsetof(drm_version, date_len), true});
      fields.push_back({offsetof(drm_version, desc), v.desc_len,
                        offsetof(drm_version, desc_len), true});
      break;
    }
    default:
      break;
  }
  return fields;
}

}  // namespace xehil::simd
