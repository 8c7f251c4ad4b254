// One ioctl that the vxe kernel driver forwarded, run on a DrmFile: the
// argument arrives as bytes and every user pointer the decoder follows
// (ioctl_buffers.h) still points into the calling process `pid`. Those
// ranges are read with process_vm_readv into buffers of the daemon, the
// ioctl runs as for a socket client (same decoding, counting and script
// rules), and the ranges the decoder wrote (query data) are written back
// with process_vm_writev after a successful call.
//  - a range that cannot be read is not handed over: the decoder answers as
//    for a NULL pointer (-EFAULT), as the kernel's copy_from_user would;
//  - a failed write-back turns the result into -EFAULT (copy_to_user);
//  - ranges larger than kMaxCallerBuffer are not copied (-EFAULT, or
//    -EINVAL where the size is checked first).
//
//   IoctlReply reply = ServeVxeIoctl(file, event.pid, event.request, arg);
//   // reply.result, reply.arg (pointer fields as the caller passed them)
#ifndef XEHIL_SIM_SIMD_VXE_IOCTL_H_
#define XEHIL_SIM_SIMD_VXE_IOCTL_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/simd/drm_file.h"
#include "sim/simd/wire.h"

namespace xehil::simd {

inline constexpr size_t kMaxCallerBuffer = 16 << 20;

IoctlReply ServeVxeIoctl(DrmFile& file, pid_t pid, uint64_t request,
                         std::vector<uint8_t> arg);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_VXE_IOCTL_H_
