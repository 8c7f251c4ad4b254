// Marshalling of DRM ioctl arguments for xehil-simd: which fields of each
// argument struct are user pointers, how big the memory behind them is, and
// how the daemon's reply is copied back, the way drm_ioctl() would.
//
// The daemon runs in another process, so a pointer inside an argument means
// nothing there. BuildIoctl copies the argument and the memory behind each
// pointer field into a wire request (sim/simd/wire.h); ApplyIoctlReply
// copies the argument back (only for _IOC_READ requests, as the kernel does)
// with the caller's pointer values restored, and the out buffers to the
// caller's memory.
//
//   IoctlPlan plan;
//   simd::IoctlRequest wire;
//   int rc = BuildIoctl(request, user_arg, memory, &wire, &plan);
//   ... round trip ...
//   rc = ApplyIoctlReply(plan, reply, user_arg, memory);  // 0 or -errno
//
// Pure functions over a UserMemory, so tests need no daemon and no preload.
#ifndef XEHIL_SIM_PRELOAD_IOCTL_MARSHAL_H_
#define XEHIL_SIM_PRELOAD_IOCTL_MARSHAL_H_

#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/simd/wire.h"

namespace xehil::preload {

// The caller's memory. Returns false where the kernel would fail with
// EFAULT.
class UserMemory {
 public:
  virtual ~UserMemory() = default;
  virtual bool Read(void* out, uint64_t address, size_t size) = 0;
  virtual bool Write(uint64_t address, const void* data, size_t size) = 0;
};

// memcpy; only a null address (with size > 0) is a fault.
class DirectUserMemory : public UserMemory {
 public:
  bool Read(void* out, uint64_t address, size_t size) override;
  bool Write(uint64_t address, const void* data, size_t size) override;
};

// process_vm_readv/writev on this process, so a bad pointer gives EFAULT
// instead of a crash inside the interposer; falls back to DirectUserMemory
// where those syscalls are not allowed (seccomp, old kernels). `self` is
// this process's pid (the interposer caches it, saving a getpid() a copy);
// 0 asks getpid() each time.
class CheckedUserMemory : public UserMemory {
 public:
  explicit CheckedUserMemory(pid_t self = 0) : self_(self) {}
  bool Read(void* out, uint64_t address, size_t size) override;
  bool Write(uint64_t address, const void* data, size_t size) override;

 private:
  pid_t Self() const { return self_ != 0 ? self_ : ::getpid(); }
  const pid_t self_;
};

// Each out string of DRM_IOCTL_VERSION is carried up to this many bytes;
// the kernel copies no more than the string's length, which is far shorter.
inline constexpr size_t kMaxVersionString = 4096;

// One pointer field of an argument and what was done with it.
struct PointerField {
  uint32_t offset = 0;    // of the u64 pointer inside the argument
  uint64_t user_ptr = 0;  // the caller's value, restored on copy-back
  bool sent = false;      // a wire buffer describes it
  uint32_t flags = 0;     // simd::kBufferIn / kBufferOut when sent
  uint32_t size = 0;      // bytes of the buffer when sent
  // >= 0: a size_t length field whose value after the ioctl caps the bytes
  // copied back (DRM_IOCTL_VERSION strings).
  int32_t copy_len_offset = -1;
};

// What BuildIoctl did, for ApplyIoctlReply.
struct IoctlPlan {
  unsigned long request = 0;
  std::vector<PointerField> fields;
};

// The requests the simulator implements (sim/ioctl_decode.cc IoctlName):
// DRM_IOCTL_VERSION, DRM_IOCTL_GEM_CLOSE and the xe ioctls.
bool IsSimulatedIoctl(unsigned long request);

// Copies the _IOC_SIZE(request) argument at `user_arg` and the memory behind
// its pointer fields into `out`. Pointer fields without a buffer (null, or
// nothing to carry) are sent as 0. Returns 0, -ENOTTY for a request that is
// not simulated, -EFAULT for unreadable memory, -EINVAL for sizes no kernel
// query could have (beyond what one message carries).
int BuildIoctl(unsigned long request, uint64_t user_arg, UserMemory& memory,
               simd::IoctlRequest* out, IoctlPlan* plan);

// Copies the reply back: on success the out buffers to the caller's
// pointers; for _IOC_READ requests the argument, with the caller's pointer
// values restored. Returns the ioctl's result (0 or -errno), -EIO when the
// reply does not fit the request, or -EFAULT when the caller's memory could
// not be written.
int ApplyIoctlReply(const IoctlPlan& plan, const simd::IoctlReply& reply,
                    uint64_t user_arg, UserMemory& memory);

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_IOCTL_MARSHAL_H_
