// The simulator's ioctl entry point: decodes the argument structs the real
// xe driver receives (core/uapi/xe_uapi.h, drm_gem_close and drm_version from
// libdrm's drm.h), validates their fields as the driver does (pad, reserved,
// extensions, flags: -EINVAL), and calls the typed sim::Device operation,
// which checks ids and states (-ENOENT, -EBUSY, -EALREADY, ...). User
// pointers inside the structs (query data, bind vectors, engine instances)
// are pointers in this process.
//
//   int rc = DispatchIoctl(*device, file_id, DRM_IOCTL_XE_VM_CREATE, &create);
//
// Unknown requests give -ENOTTY; a null argument -EFAULT.
#ifndef XEHIL_SIM_IOCTL_DECODE_H_
#define XEHIL_SIM_IOCTL_DECODE_H_

#include <cstdint>
#include <string>

#include "sim/device.h"

namespace xehil::sim {

// "VM_CREATE", "GEM_CLOSE", ...; "UNKNOWN" for requests the simulator lacks.
std::string IoctlName(unsigned long request);

// Decodes, validates and runs one ioctl on `file`. Returns 0 or -errno.
int DispatchIoctl(Device& device, FileId file, unsigned long request,
                  void* arg);

namespace internal {

// A user pointer of this process.
template <typename T>
T* UserPtr(uint64_t address) {
  // The UAPI carries pointers as u64; this is the one place they turn back.
  return reinterpret_cast<T*>(  // NOLINT(performance-no-int-to-ptr)
      static_cast<uintptr_t>(address));
}

// DRM_IOCTL_XE_VM_BIND (ioctl_decode_bind.cc).
int VmBind(Device& device, FileId file, drm_xe_vm_bind* arg);

}  // namespace internal
}  // namespace xehil::sim

#endif  // XEHIL_SIM_IOCTL_DECODE_H_
