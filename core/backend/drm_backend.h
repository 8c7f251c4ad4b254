// DrmBackend: the KernelBackend for real hardware. It owns one open file on an
// xe render node and issues the xe ioctls on it unchanged; notification pipes
// are real kernel watch queues (pipe2(O_NOTIFICATION_PIPE)).
//
//   absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open();
//   if (absl::IsNotFound(backend.status())) ...  // no xe GPU on this machine
//   XeDevice dev(**backend);
//
// The free functions below need no device, so `xehil info` and tests can ask
// whether this kernel has watch-queue support at all:
//
//   absl::Status s = ProbeWatchQueueSupport();
//
// A file's DRM client id is what a device (or vxe's daemon) names it by:
//
//   XEHIL_ASSIGN_OR_RETURN(uint64_t id, (*backend)->client_id());
//   // FAILED_PRECONDITION "kernel lacks watch-queue support
//   // (CONFIG_WATCH_QUEUE): pipe2(O_NOTIFICATION_PIPE) gave -ENOPKG" here.
#ifndef XEHIL_CORE_BACKEND_DRM_BACKEND_H_
#define XEHIL_CORE_BACKEND_DRM_BACKEND_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/backend/kernel_backend.h"
#include "core/base/unique_fd.h"

namespace xehil {

class DrmBackend : public KernelBackend {
 public:
  // Opens `path`, or with an empty path the first render node (in
  // FindXeRenderNode's order) whose driver is xe. Errors:
  //  - NOT_FOUND: no xe render node; the message says what is missing;
  //  - FAILED_PRECONDITION: `path` is not a DRM device, or not driven by xe
  //    (the message names the driver found);
  //  - the errno's status, naming the path, when open() fails.
  static absl::StatusOr<std::unique_ptr<DrmBackend>> Open(
      std::string path = "");

  // Thread-safe (the file descriptor never changes after Open). Retries only
  // EINTR: -EAGAIN reaches the caller.
  int Ioctl(unsigned long request, void* arg) override;

  // OpenKernelNotificationPipe(options); the pipe is not tied to this file
  // until DRM_IOCTL_XE_WATCH_QUEUE subscribes it.
  absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions& options) override;

  std::string Name() const override { return "xe"; }
  // "/dev/dri/renderD128: xe 1.1.0 (20201103), PCI 8086:56a0 at 0000:03:00.0"
  std::string Description() const override { return description_; }

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  // This file's DRM client id: ReadDrmClientId(fd()).
  absl::StatusOr<uint64_t> client_id() const;

 private:
  DrmBackend(UniqueFd fd, std::string path, std::string description)
      : fd_(std::move(fd)),
        path_(std::move(path)),
        description_(std::move(description)) {}

  const UniqueFd fd_;
  const std::string path_;
  const std::string description_;
};

// Scans `dri_dir` for renderD* nodes (in name order) and returns the path of
// the first one whose DRM driver is "xe". NOT_FOUND otherwise, e.g.
//   "no xe render node: /dev/dri does not exist"
//   "no xe render node: /dev/dri has no renderD* nodes"
//   "found render nodes but none is driven by xe: renderD128 (i915)"
absl::StatusOr<std::string> FindXeRenderNode(
    absl::string_view dri_dir = "/dev/dri");

// A kernel notification pipe with options.ring_notes notes
// (IOC_WATCH_QUEUE_SET_SIZE) and options.filter (IOC_WATCH_QUEUE_SET_FILTER).
// Options outside the kernel's limits are INVALID_ARGUMENT before any syscall;
// a kernel without CONFIG_WATCH_QUEUE gives FAILED_PRECONDITION carrying
// -ENOPKG (StatusErrno).
absl::StatusOr<NotificationPipe> OpenKernelNotificationPipe(
    const NotificationPipeOptions& options);

// ioctl(2) on `fd`, retried on EINTR only: 0 or -errno. DrmBackend::Ioctl.
int IoctlRetryingEintr(int fd, unsigned long request, void* arg);

// The DRM client id of open DRM file `fd`: the `drm-client-id:` line of
// `<fdinfo_dir>/<fd>` (the kernel's /proc/self/fdinfo; tests pass their own
// directory). NOT_FOUND naming the fd when the driver does not report one
// (no fdinfo support, or not a DRM file); DATA_LOSS for a malformed value;
// the errno's status when the fdinfo file cannot be read.
absl::StatusOr<uint64_t> ReadDrmClientId(
    int fd, absl::string_view fdinfo_dir = "/proc/self/fdinfo");

// OK if this kernel can make and size a notification pipe; otherwise the
// status OpenKernelNotificationPipe gave.
absl::Status ProbeWatchQueueSupport();

}  // namespace xehil

#endif  // XEHIL_CORE_BACKEND_DRM_BACKEND_H_
