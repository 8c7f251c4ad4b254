// The xe ioctls one at a time, as raw calls on a KernelBackend: 0 or the
// negative errno, so tests assert exact errnos on any backend. Shared by the
// backend conformance suite and the simulator's own tests.
//
//   uint32_t vm = 0;
//   ASSERT_EQ(raw_ioctl::VmCreate(backend, DRM_XE_VM_CREATE_FLAG_LR_MODE, &vm),
//   0); EXPECT_EQ(raw_ioctl::Restart(backend, vm), -EINVAL);
#ifndef XEHIL_CORE_BACKEND_TESTING_RAW_IOCTLS_H_
#define XEHIL_CORE_BACKEND_TESTING_RAW_IOCTLS_H_

#include <cstdint>

#include "core/backend/kernel_backend.h"
#include "core/uapi/xe_uapi.h"

namespace xehil::raw_ioctl {

int VmCreate(KernelBackend& backend, uint32_t flags, uint32_t* vm_id);
int VmDestroy(KernelBackend& backend, uint32_t vm_id);
// GEM_CREATE with WC caching (valid for every placement).
int GemCreate(KernelBackend& backend, uint64_t size, uint32_t placement,
              uint32_t* handle, uint32_t vm_id = 0);
int GemClose(KernelBackend& backend, uint32_t handle);
int BindBo(KernelBackend& backend, uint32_t vm_id, uint32_t bo, uint64_t offset,
           uint64_t addr, uint64_t range);
int Unbind(KernelBackend& backend, uint32_t vm_id, uint64_t addr,
           uint64_t range);
int ExecQueueCreate(KernelBackend& backend, uint32_t vm_id,
                    const drm_xe_engine_class_instance& engine, uint32_t* id);
int ExecQueueDestroy(KernelBackend& backend, uint32_t id);
int Restart(KernelBackend& backend, uint32_t vm_id, uint64_t timestamp_ns = 0);
int Watch(KernelBackend& backend, int fd, uint32_t watch_id);

}  // namespace xehil::raw_ioctl

#endif  // XEHIL_CORE_BACKEND_TESTING_RAW_IOCTLS_H_
