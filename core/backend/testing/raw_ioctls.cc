#include "core/backend/testing/raw_ioctls.h"

#include <cstdint>

namespace xehil::raw_ioctl {

int VmCreate(KernelBackend& backend, uint32_t flags, uint32_t* vm_id) {
  drm_xe_vm_create arg{};
  arg.flags = flags;
  const int rc = backend.Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg);
  if (rc == 0) *vm_id = arg.vm_id;
  return rc;
}

int VmDestroy(KernelBackend& backend, uint32_t vm_id) {
  drm_xe_vm_destroy arg{};
  arg.vm_id = vm_id;
  return backend.Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg);
}

int GemCreate(KernelBackend& backend, uint64_t size, uint32_t placement,
              uint32_t* handle, uint32_t vm_id) {
  drm_xe_gem_create arg{};
  arg.size = size;
  arg.placement = placement;
  arg.vm_id = vm_id;
  arg.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
  const int rc = backend.Ioctl(DRM_IOCTL_XE_GEM_CREATE, &arg);
  if (rc == 0) *handle = arg.handle;
  return rc;
}

int GemClose(KernelBackend& backend, uint32_t handle) {
  drm_gem_close arg{};
  arg.handle = handle;
  return backend.Ioctl(DRM_IOCTL_GEM_CLOSE, &arg);
}

int BindBo(KernelBackend& backend, uint32_t vm_id, uint32_t bo, uint64_t offset,
           uint64_t addr, uint64_t range) {
  drm_xe_vm_bind arg{};
  arg.vm_id = vm_id;
  arg.num_binds = 1;
  arg.bind.obj = bo;
  arg.bind.obj_offset = offset;
  arg.bind.addr = addr;
  arg.bind.range = range;
  arg.bind.op = DRM_XE_VM_BIND_OP_MAP;
  return backend.Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
}

int Unbind(KernelBackend& backend, uint32_t vm_id, uint64_t addr,
           uint64_t range) {
  drm_xe_vm_bind arg{};
  arg.vm_id = vm_id;
  arg.num_binds = 1;
  arg.bind.addr = addr;
  arg.bind.range = range;
  arg.bind.op = DRM_XE_VM_BIND_OP_UNMAP;
  return backend.Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
}

int ExecQueueCreate(KernelBackend& backend, uint32_t vm_id,
                    const drm_xe_engine_class_instance& engine, uint32_t* id) {
  drm_xe_engine_class_instance instance = engine;
  drm_xe_exec_queue_create arg{};
  arg.width = 1;
  arg.num_placements = 1;
  arg.vm_id = vm_id;
  arg.instances = reinterpret_cast<uintptr_t>(&instance);
  const int rc = backend.Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &arg);
  if (rc == 0) *id = arg.exec_queue_id;
  return rc;
}

int ExecQueueDestroy(KernelBackend& backend, uint32_t id) {
  drm_xe_exec_queue_destroy arg{};
  arg.exec_queue_id = id;
  return backend.Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &arg);
}

int Restart(KernelBackend& backend, uint32_t vm_id, uint64_t timestamp_ns) {
  drm_xe_vm_restart arg{};
  arg.vm_id = vm_id;
  arg.timestamp_ns = timestamp_ns;
  return backend.Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg);
}

int Watch(KernelBackend& backend, int fd, uint32_t watch_id) {
  drm_xe_watch_queue arg{};
  arg.fd = static_cast<uint32_t>(fd);
  arg.watch_id = watch_id;
  return backend.Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg);
}

}  // namespace xehil::raw_ioctl
