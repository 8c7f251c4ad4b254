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

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
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

// The read path of a notification pipe that a backend emulates. A kernel's
// notification pipe needs none: read(2) and FIONREAD on its read end already
// behave as uapi.md says. A simulated one carries records over an ordinary
// pipe, which cannot make up the loss record at read time or refuse to split
// a record; its backend supplies this instead (Envoy's OsSysCalls idea: the
// seam owns the system calls it must change). poll(2) on the read end stays
// exact: an emulated pipe is readable exactly when records are queued.
class NotificationReader {
 public:
  virtual ~NotificationReader() = default;
  // read(2) on `read_fd`, the pipe's read end: whole records, the loss record
  // where the kernel makes it up, -ENOBUFS, -EAGAIN for an empty O_NONBLOCK
  // end. Bytes, 0 at EOF, or -errno. Thread-safe.
  virtual ssize_t Read(int read_fd, void* buf, size_t size) = 0;
  // ioctl(FIONREAD): bytes of the queued records (never the pending loss
  // record), or -errno.
  virtual int BytesQueued(int read_fd) = 0;
};

// Both ends of a notification pipe. The kernel is not a writer: once every
// userspace write end is closed an empty pipe reads EOF and polls POLLHUP
// although watches stay active, so a reader that wants to block keeps
// `write_end` open for as long as it listens. Read it with
// ReadNotificationPipe(), never with read(2) directly.
struct NotificationPipe {
  UniqueFd read_end;
  UniqueFd write_end;
  // Set by backends that emulate the pipe; null for a kernel pipe.
  std::shared_ptr<NotificationReader> reader;
};

// read(2) on `pipe`'s read end with the kernel's semantics, through its
// reader if it has one: bytes, 0 at EOF, or -errno (EINTR is retried).
ssize_t ReadNotificationPipe(const NotificationPipe& pipe, void* buf,
                             size_t size);
// FIONREAD on `pipe`'s read end: bytes of the queued records, or -errno.
int NotificationBytesQueued(const NotificationPipe& pipe);

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
