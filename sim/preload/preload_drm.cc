// libxehil_preload.so: open() of /dev/dri/renderD* and /dev/dri/card*
// (a connection to xehil-simd instead of a device node) and ioctl(), which
// sends DRM ioctls on those descriptors to the daemon and the watch-queue
// ioctls on notification pipes to preload_pipe.cc.
#include <fcntl.h>
#include <linux/ioctl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <string>

#include "core/uapi/xe_uapi.h"
#include "sim/preload/ioctl_marshal.h"
#include "sim/preload/preload_internal.h"
#include "sim/preload/reentry_guard.h"
#include "sim/preload/simd_link.h"

namespace xehil::preload {
namespace {

std::atomic<bool> warned_no_env{false};
std::atomic<bool> warned_connect{false};
std::atomic<bool> warned_lost{false};

enum class NodeKind {
  kOther,     // not a DRM node path: the real open()
  kServed,    // the simulated device's render or primary node
  kUnserved,  // a DRM node the simulated machine does not have: ENOENT
};

// "/dev/dri/renderD<digits>" or "/dev/dri/card<digits>" are DRM nodes; the
// simulated machine has one GPU, whose nodes are renderD128 and card0 (as
// the kernel numbers the first device).
NodeKind ClassifyNode(const char* path) {
  if (path == nullptr) return NodeKind::kOther;
  static constexpr char kRender[] = "/dev/dri/renderD";
  static constexpr char kCard[] = "/dev/dri/card";
  const char* rest = nullptr;
  const char* served = nullptr;
  if (std::strncmp(path, kRender, sizeof(kRender) - 1) == 0) {
    rest = path + sizeof(kRender) - 1;
    served = "128";
  } else if (std::strncmp(path, kCard, sizeof(kCard) - 1) == 0) {
    rest = path + sizeof(kCard) - 1;
    served = "0";
  } else {
    return NodeKind::kOther;
  }
  if (*rest == '\0') return NodeKind::kOther;
  for (const char* c = rest; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9') return NodeKind::kOther;
  }
  return std::strcmp(rest, served) == 0 ? NodeKind::kServed
                                        : NodeKind::kUnserved;
}

// The DRM file for `path`: a kDrmFile connection to the daemon. -1 with
// errno ENOENT when there is no daemon (as if there were no device).
int OpenDrm(const char* path, int flags) {
  const char* socket_path = ::getenv(simd::kSocketEnv);
  if (socket_path == nullptr || *socket_path == '\0') {
    WarnOnce(warned_no_env,
             std::string("open ") + path + ": " + simd::kSocketEnv +
                 " is not set, so there is no simulated device and the open "
                 "fails with ENOENT; start xehil-simd and export " +
                 simd::kSocketEnv + "=<its socket>");
    errno = ENOENT;
    return -1;
  }
  simd::HelloReply hello;
  std::string why;
  int fd = ConnectToDaemon(socket_path, simd::Role::kDrmFile,
                           (flags & O_CLOEXEC) != 0, &RealClose, &hello, &why);
  if (fd < 0) {
    if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM || fd == -ENOBUFS) {
      errno = -fd;  // the program is out of descriptors or memory
      return -1;
    }
    WarnOnce(warned_connect,
             std::string("open ") + path + ": cannot reach xehil-simd (" + why +
                 "), so the open fails with ENOENT; is xehil-simd "
                 "running with --socket=" +
                 socket_path + "?");
    errno = ENOENT;
    return -1;
  }
  FdEntry entry;
  entry.kind = FdKind::kDrm;
  entry.identity = Identify(fd);
  entry.drm = std::make_shared<DrmFile>();
  {
    Forgotten stale = Table().Add(fd, std::move(entry));
    HandleForgotten(stale);
  }
  return fd;
}

// Ioctls the VFS answers for every file, DRM files included.
bool IsVfsIoctl(unsigned long request) {
  return request == FIOCLEX || request == FIONCLEX || request == FIONBIO ||
         request == FIOASYNC;
}

int Fail(int err) {
  errno = err;
  return -1;
}

template <typename RealOpen, typename... Args>
int Open(const char* path, int flags, RealOpen real, Args... args) {
  switch (ClassifyNode(path)) {
    case NodeKind::kOther:
      return real(args...);
    case NodeKind::kUnserved:
      return Fail(ENOENT);  // no such node on the simulated machine
    case NodeKind::kServed:
      // The node exists: exclusive creation fails before anything else.
      if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
        return Fail(EEXIST);
      }
      return OpenDrm(path, flags);
  }
  return Fail(ENOENT);
}

// The mode argument exists only with O_CREAT or O_TMPFILE.
bool HasMode(int flags) {
  return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

}  // namespace

int DrmIoctl(int fd, const FdEntry& entry, unsigned long request, void* arg) {
  if (_IOC_TYPE(request) != DRM_IOCTL_BASE) {
    if (IsVfsIoctl(request)) return real_ioctl.get()(fd, request, arg);
    return Fail(ENOTTY);
  }
  if (!IsSimulatedIoctl(request)) return Fail(ENOTTY);
  CheckedUserMemory memory(SelfPid());
  simd::IoctlRequest wire;
  IoctlPlan plan;
  const uint64_t user_arg = reinterpret_cast<uintptr_t>(arg);
  if (int rc = BuildIoctl(request, user_arg, memory, &wire, &plan); rc != 0) {
    return Fail(-rc);
  }
  if (request == DRM_IOCTL_XE_WATCH_QUEUE) {
    // The daemon knows the pipe by the id it gave it, not by our fd.
    uint32_t pipe_fd = 0;
    std::memcpy(&pipe_fd, wire.arg.data() + offsetof(drm_xe_watch_queue, fd),
                sizeof(pipe_fd));
    int64_t id = WatchedPipeId(static_cast<int>(pipe_fd));
    if (id < 0) return Fail(static_cast<int>(-id));
    const uint32_t id32 = static_cast<uint32_t>(id);
    std::memcpy(wire.arg.data() + offsetof(drm_xe_watch_queue, fd), &id32,
                sizeof(id32));
  }
  simd::Message reply;
  std::string why;
  int rc;
  {
    std::lock_guard<std::mutex> lock(entry.drm->mu);
    const uint32_t seq = ++entry.drm->seq;
    rc = RoundTrip(fd, simd::EncodeIoctl(seq, wire), seq, -1, &entry.drm->rx,
                   &reply, &why);
    if (rc == 0 && reply.header.type !=
                       static_cast<uint16_t>(simd::MessageType::kIoctlReply)) {
      why = "xehil-simd answered an ioctl with message type " +
            std::to_string(reply.header.type);
      rc = -EIO;
    }
  }
  if (rc != 0) {
    WarnOnce(warned_lost, "lost the connection to xehil-simd (" + why +
                              "); ioctls on simulated DRM files fail with EIO");
    return Fail(EIO);
  }
  rc = ApplyIoctlReply(plan, reply.ioctl_reply, user_arg, memory);
  return rc == 0 ? 0 : Fail(-rc);
}

}  // namespace xehil::preload

using xehil::preload::FdEntry;
using xehil::preload::FdKind;
using xehil::preload::HasMode;

// open(2)'s optional third argument, read only when `flags` say it is there
// (va_start must run in the variadic function itself, hence a macro).
#define XEHIL_OPEN_MODE(flags, mode) \
  mode_t mode = 0;                   \
  if (HasMode(flags)) {              \
    va_list ap;                      \
    va_start(ap, flags);             \
    mode = va_arg(ap, mode_t);       \
    va_end(ap);                      \
  }
using xehil::preload::Open;

XEHIL_EXPORT int open(const char* path, int flags, ...) {
  XEHIL_OVERRIDE_GUARD("open");
  XEHIL_OPEN_MODE(flags, mode);
  return Open(path, flags, xehil::preload::real_open.get(), path, flags, mode);
}

XEHIL_EXPORT int open64(const char* path, int flags, ...) {
  XEHIL_OVERRIDE_GUARD("open64");
  XEHIL_OPEN_MODE(flags, mode);
  return Open(path, flags, xehil::preload::real_open64.get(), path, flags,
              mode);
}

XEHIL_EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  XEHIL_OVERRIDE_GUARD("openat");
  XEHIL_OPEN_MODE(flags, mode);
  return Open(path, flags, xehil::preload::real_openat.get(), dirfd, path,
              flags, mode);
}

XEHIL_EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  XEHIL_OVERRIDE_GUARD("openat64");
  XEHIL_OPEN_MODE(flags, mode);
  return Open(path, flags, xehil::preload::real_openat64.get(), dirfd, path,
              flags, mode);
}

// _FORTIFY_SOURCE variants: open() without a mode argument.
XEHIL_EXPORT int __open_2(const char* path, int flags) {
  XEHIL_OVERRIDE_GUARD("__open_2");
  return Open(path, flags, xehil::preload::real_open_2.get(), path, flags);
}

XEHIL_EXPORT int __open64_2(const char* path, int flags) {
  XEHIL_OVERRIDE_GUARD("__open64_2");
  return Open(path, flags, xehil::preload::real_open64_2.get(), path, flags);
}

XEHIL_EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  XEHIL_OVERRIDE_GUARD("__openat_2");
  return Open(path, flags, xehil::preload::real_openat_2.get(), dirfd, path,
              flags);
}

XEHIL_EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  XEHIL_OVERRIDE_GUARD("__openat64_2");
  return Open(path, flags, xehil::preload::real_openat64_2.get(), dirfd, path,
              flags);
}

XEHIL_EXPORT int ioctl(int fd, unsigned long request, ...) noexcept {
  XEHIL_OVERRIDE_GUARD("ioctl");
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (xehil::preload::Table().Hint(fd) == FdKind::kNone) {
    return xehil::preload::real_ioctl.get()(fd, request, arg);
  }
  FdEntry entry = xehil::preload::LookupChecked(fd);
  switch (entry.kind) {
    case FdKind::kDrm:
      return xehil::preload::DrmIoctl(fd, entry, request, arg);
    case FdKind::kNotifyRead:
    case FdKind::kNotifyWrite:
      return xehil::preload::NotifyPipeIoctl(fd, entry, request, arg);
    case FdKind::kNone:
      break;
  }
  return xehil::preload::real_ioctl.get()(fd, request, arg);
}
