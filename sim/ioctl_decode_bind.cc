// VM_BIND decoding: field checks of each operation (one inline, or a vector
// of them behind a user pointer), then Device::Bind.
#include <cerrno>
#include <vector>

#include "sim/ioctl_decode.h"

namespace xehil::sim::internal {
namespace {

// Field checks of one bind operation; ids are checked by the Device.
int DecodeBindOp(const drm_xe_vm_bind_op& in, BindOp* out) {
  constexpr uint32_t kKnownFlags =
      DRM_XE_VM_BIND_FLAG_READONLY | DRM_XE_VM_BIND_FLAG_IMMEDIATE |
      DRM_XE_VM_BIND_FLAG_NULL | DRM_XE_VM_BIND_FLAG_DUMPABLE;
  constexpr uint64_t kPageMask = 4096 - 1;
  if (in.extensions != 0 || in.pad != 0 || in.pad2 != 0 ||
      in.reserved[0] != 0 || in.reserved[1] != 0 || in.reserved[2] != 0) {
    return -EINVAL;
  }
  if (in.op > DRM_XE_VM_BIND_OP_PREFETCH || (in.flags & ~kKnownFlags) != 0) {
    return -EINVAL;
  }
  if (in.op != DRM_XE_VM_BIND_OP_PREFETCH &&
      in.prefetch_mem_region_instance != 0) {
    return -EINVAL;
  }
  const bool is_null = in.flags & DRM_XE_VM_BIND_FLAG_NULL;
  switch (in.op) {
    case DRM_XE_VM_BIND_OP_MAP:
      if ((in.obj == 0) != is_null) return -EINVAL;  // a BO, or a NULL binding
      if (is_null && in.obj_offset != 0) return -EINVAL;
      break;
    case DRM_XE_VM_BIND_OP_UNMAP_ALL:
      if (in.obj == 0 || in.addr != 0 || in.range != 0 || is_null) {
        return -EINVAL;
      }
      break;
    default:  // UNMAP, MAP_USERPTR, PREFETCH name no BO
      if (in.obj != 0 || is_null) return -EINVAL;
      break;
  }
  if (in.op != DRM_XE_VM_BIND_OP_UNMAP_ALL) {
    if (in.range == 0 || ((in.addr | in.range | in.obj_offset) & kPageMask)) {
      return -EINVAL;
    }
    if (in.addr + in.range < in.addr) return -EINVAL;
  }
  *out = {in.op, in.obj, in.obj_offset, in.range, in.addr, in.flags};
  return 0;
}

}  // namespace

int VmBind(Device& device, FileId file, drm_xe_vm_bind* a) {
  if (a->extensions != 0 || a->pad != 0 || a->pad2 != 0 ||
      a->reserved[0] != 0 || a->reserved[1] != 0) {
    return -EINVAL;
  }
  if (a->num_binds == 0) return -EINVAL;
  const drm_xe_vm_bind_op* raw = &a->bind;
  if (a->num_binds > 1) {
    raw = UserPtr<const drm_xe_vm_bind_op>(a->vector_of_binds);
    if (raw == nullptr) return -EFAULT;
  }
  std::vector<BindOp> ops(a->num_binds);
  for (uint32_t i = 0; i < a->num_binds; ++i) {
    if (int rc = DecodeBindOp(raw[i], &ops[i]); rc != 0) return rc;
  }
  // Syncs are not modelled: every bind has completed when the ioctl returns.
  return device.Bind(file, a->vm_id, a->exec_queue_id, ops);
}

}  // namespace xehil::sim::internal
