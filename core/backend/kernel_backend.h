// KernelBackend: the seam between xehil and a kernel, cut at the syscall
// boundary. Everything above it (XeDevice, the watch listener, the recovery
// engine, scenarios) is the same code for the real xe driver (DrmBackend) and
// for the simulated kernel (sim::SimBackend).
//
//   std::unique_ptr<KernelBackend> backend = ...;
//   drm_xe_vm_create create{};
//   create.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE;
//   int rc = backend->Ioctl(DRM_IOCTL_XE_VM_CREATE, &create);  // 0 or -errno
#ifndef XEHIL_CORE_BACKEND_KERNEL_BACKEND_H_
#define XEHIL_CORE_BACKEND_KERNEL_BACKEND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/base/unique_fd.h"
#include "core/uapi/xe_uapi.h"

namespace xehil {

// How to set up a notification pipe before it is subscribed.
struct NotificationPipeOptions {
  // Ring size in notes for IOC_WATCH_QUEUE_SET_SIZE (1..512; the kernel
  // rounds up to whole pages of 32 notes).
  uint32_t ring_notes = 256;
  // Filter entries for IOC_WATCH_QUEUE_SET_FILTER; nullopt leaves the pipe
  // unfiltered. Meta records (removal, loss) always pass.
  std::optional<std::vector<watch_notification_type_filter>> filter;
};

// Both ends of a notification pipe. The kernel is not a writer: once every
// userspace write end is closed an empty pipe reads EOF and polls POLLHUP
// although watches stay active, so a reader that wants to block keeps
// `write_end` open for as long as it listens.
struct NotificationPipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

class KernelBackend {
 public:
  virtual ~KernelBackend() = default;

  // Issues a DRM ioctl on this backend's open file, with the same argument
  // struct the xe driver takes. Returns 0 or a negative errno. Thread-safe.
  // EAGAIN is returned to the caller, never retried here (VM_RESTART relies on
  // seeing it); EINTR is retried.
  virtual int Ioctl(unsigned long request, void* arg) = 0;

  // Makes a notification pipe with the given ring size and filter, not yet
  // subscribed to anything (see DRM_IOCTL_XE_WATCH_QUEUE). Fails with a
  // status that names what is missing when the kernel lacks watch queues.
  virtual absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions& options) = 0;

  // Short backend name: "xe" or "sim".
  virtual std::string Name() const = 0;

  // One line for people: which device this file is open on.
  virtual std::string Description() const = 0;
};

}  // namespace xehil

#endif  // XEHIL_CORE_BACKEND_KERNEL_BACKEND_H_
