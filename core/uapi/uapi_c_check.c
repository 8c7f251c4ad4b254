/* Compiled as C: the header must stand beside libc's <fcntl.h>. */
#include <fcntl.h>

#include "core/uapi/xe_uapi.h"

_Static_assert(O_NOTIFICATION_PIPE == O_EXCL, "notification pipe flag");

unsigned long xehil_uapi_c_vm_restart_request(void) {
  return DRM_IOCTL_XE_VM_RESTART;
}
