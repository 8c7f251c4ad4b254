// Reading and writing another process's memory with process_vm_readv and
// process_vm_writev, for xehil-simd --vxe_control: the vxe kernel driver
// forwards ioctl arguments as bytes, and the user pointers inside them point
// into the calling process (which is blocked in the ioctl meanwhile).
//
//   std::vector<uint8_t> engines(48);
//   int rc = ReadCallerMemory(pid, address, engines.data(), engines.size());
//   if (rc != 0) ...  // -EFAULT: not mapped; -ESRCH: gone; -EPERM
//
// Needs ptrace access to the caller (root in the vxe guest).
#ifndef XEHIL_SIM_SIMD_CALLER_MEMORY_H_
#define XEHIL_SIM_SIMD_CALLER_MEMORY_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace xehil::simd {

// 0 once all `size` bytes were copied, else -errno (-EFAULT also when only a
// part of the range is mapped).
int ReadCallerMemory(pid_t pid, uint64_t address, void* out, size_t size);
int WriteCallerMemory(pid_t pid, uint64_t address, const void* data,
                      size_t size);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CALLER_MEMORY_H_
