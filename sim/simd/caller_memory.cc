#include "sim/simd/caller_memory.h"

#include <sys/uio.h>

#include <cerrno>

namespace xehil::simd {
namespace {

// Both calls may stop early at an unmapped page: continue until done, and
// call a range that makes no progress a fault.
template <typename Transfer>
int CopyAll(uint64_t address, uint8_t* local, size_t size, Transfer transfer) {
  size_t done = 0;
  while (done < size) {
    iovec mine{local + done, size - done};
    iovec theirs{reinterpret_cast<void*>(  // NOLINT(performance-no-int-to-ptr)
                     static_cast<uintptr_t>(address + done)),
                 size - done};
    ssize_t n = transfer(&mine, &theirs);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return -EFAULT;
    done += static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

int ReadCallerMemory(pid_t pid, uint64_t address, void* out, size_t size) {
  return CopyAll(address, static_cast<uint8_t*>(out), size,
                 [pid](iovec* mine, iovec* theirs) {
                   return process_vm_readv(pid, mine, 1, theirs, 1, 0);
                 });
}

int WriteCallerMemory(pid_t pid, uint64_t address, const void* data,
                      size_t size) {
  return CopyAll(address,
                 const_cast<uint8_t*>(static_cast<const uint8_t*>(data)), size,
                 [pid](iovec* mine, iovec* theirs) {
                   return process_vm_writev(pid, mine, 1, theirs, 1, 0);
                 });
}

}  // namespace xehil::simd
