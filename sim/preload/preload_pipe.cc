// libxehil_preload.so: pipe2(O_NOTIFICATION_PIPE) — an ordinary pipe whose
// write end is registered with xehil-simd over the process's kRolePipes
// connection — and the ioctls on such pipes (IOC_WATCH_QUEUE_SET_SIZE,
// IOC_WATCH_QUEUE_SET_FILTER, FIONREAD).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <mutex>
#include <string>
#include <unordered_set>

#include "core/uapi/watch_uapi.h"
#include "sim/preload/ioctl_marshal.h"
#include "sim/preload/preload_internal.h"
#include "sim/preload/reentry_guard.h"
#include "sim/preload/simd_link.h"

namespace xehil::preload {
namespace {

std::atomic<bool> warned_no_daemon{false};
std::atomic<bool> warned_pipes_lost{false};

// The process's notification-pipe registry: one kRolePipes connection,
// made on first use.
class PipeLink {
 public:
  // Registers `write_fd` (passed to the daemon, which keeps a duplicate).
  // 0 with the pipe id, -ENOPKG without a daemon, -EIO when the connection
  // is lost, or the daemon's -errno.
  int Register(int write_fd, uint64_t* pipe_id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (int rc = ConnectLocked(); rc != 0) return rc;
    simd::Message reply;
    const uint32_t seq = ++seq_;
    int rc =
        RoundTripLocked(simd::EncodeRegisterPipe(seq), seq, write_fd, &reply);
    if (rc != 0) return rc;
    if (reply.result.result != 0) return reply.result.result;
    *pipe_id = reply.result.value;
    mine_.insert(*pipe_id);
    return 0;
  }

  // kPipeIoctl: the daemon's 0 or -errno, or -EIO.
  int Ioctl(const simd::PipeIoctl& request) {
    std::lock_guard<std::mutex> lock(mu_);
    // Registered on a connection since lost (or closed behind our back).
    if (fd_ < 0 || !StillOursLocked()) return -EIO;
    const uint32_t seq = ++seq_;
    simd::Message reply;
    int rc =
        RoundTripLocked(simd::EncodePipeIoctl(seq, request), seq, -1, &reply);
    return rc != 0 ? rc : reply.result.result;
  }

  // The program has no end of the pipe left: the daemon drops its write end.
  // Pipes inherited from a parent process are the parent's to release.
  void Release(uint64_t pipe_id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (mine_.erase(pipe_id) == 0 || fd_ < 0 || !StillOursLocked()) return;
    std::string why;
    if (SendOnly(fd_, simd::EncodeReleasePipe(++seq_, pipe_id), &why) != 0) {
      DropLocked(why);
    }
  }

  void LockForFork() { mu_.lock(); }
  void UnlockInParent() { mu_.unlock(); }
  // The child must not talk on the parent's connection (replies would go to
  // either process): it makes its own on first use.
  void ResetInChild() {
    if (fd_ >= 0) real_close.get()(fd_);
    fd_ = -1;
    mine_.clear();
    mu_.unlock();
  }

 private:
  int ConnectLocked() {
    if (fd_ >= 0 && StillOursLocked()) return 0;
    fd_ = -1;
    const char* socket_path = ::getenv(simd::kSocketEnv);
    if (socket_path == nullptr || *socket_path == '\0') {
      WarnOnce(warned_no_daemon,
               std::string("pipe2(O_NOTIFICATION_PIPE) fails with ENOPKG: ") +
                   simd::kSocketEnv +
                   " is not set, and notification pipes are simulated by "
                   "xehil-simd; start it and export " +
                   simd::kSocketEnv + "=<its socket>");
      return -ENOPKG;
    }
    simd::HelloReply hello;
    std::string why;
    int fd = ConnectToDaemon(socket_path, simd::Role::kPipes,
                             /*cloexec=*/true, &RealClose, &hello, &why);
    if (fd < 0) {
      if (fd == -EMFILE || fd == -ENFILE || fd == -ENOMEM) return fd;
      WarnOnce(warned_no_daemon,
               "pipe2(O_NOTIFICATION_PIPE) fails with ENOPKG: cannot reach "
               "xehil-simd (" +
                   why + ")");
      return -ENOPKG;
    }
    fd_ = fd;
    identity_ = Identify(fd);
    return 0;
  }

  // The program may have closed our socket's number behind our back.
  bool StillOursLocked() const {
    FdIdentity now = Identify(fd_);
    return now == identity_ && now != FdIdentity{};
  }

  int RoundTripLocked(const std::vector<uint8_t>& message, uint32_t seq,
                      int pass_fd, simd::Message* reply) {
    std::string why;
    int rc = RoundTrip(fd_, message, seq, pass_fd, &rx_, reply, &why);
    if (rc == 0 && reply->header.type !=
                       static_cast<uint16_t>(simd::MessageType::kResult)) {
      why = "xehil-simd answered with message type " +
            std::to_string(reply->header.type);
      rc = -EIO;
    }
    if (rc != 0) DropLocked(why);
    return rc;
  }

  void DropLocked(const std::string& why) {
    WarnOnce(warned_pipes_lost,
             "lost the notification-pipe connection to xehil-simd (" + why +
                 "); pipes registered on it get no more records");
    if (fd_ >= 0 && StillOursLocked()) real_close.get()(fd_);
    fd_ = -1;
    mine_.clear();
  }

  std::mutex mu_;
  int fd_ = -1;  // guarded by mu_, like everything below
  FdIdentity identity_;
  uint32_t seq_ = 0;
  std::vector<uint8_t> rx_;
  std::unordered_set<uint64_t> mine_;  // pipe ids this process registered
};

PipeLink& Pipes() {
  static PipeLink* link = new PipeLink();
  return *link;
}

// NotifyPipe's releaser: the last reference to the pipe went.
void ReleasePipe(const NotifyPipe& pipe) {
  const int saved = errno;
  ReportPipe(pipe, /*read_fd=*/-1);
  Pipes().Release(pipe.pipe_id());
  if (pipe.wake_fd() >= 0) real_close.get()(pipe.wake_fd());
  errno = saved;
}

int Fail(int err) {
  errno = err;
  return -1;
}

// IOC_WATCH_QUEUE_SET_FILTER's argument as bytes: header and entries.
int ReadFilter(void* arg, std::vector<uint8_t>* out) {
  out->clear();
  if (arg == nullptr) return 0;  // NULL removes the filter
  CheckedUserMemory memory(SelfPid());
  const uint64_t address = reinterpret_cast<uintptr_t>(arg);
  watch_notification_filter header{};
  if (!memory.Read(&header, address, sizeof(header))) return -EFAULT;
  // The kernel checks the count before it reads the entries.
  if (header.nr_filters == 0 || header.nr_filters > XEHIL_WATCH_FILTER_MAX) {
    return -EINVAL;
  }
  out->resize(sizeof(header) +
              header.nr_filters * sizeof(watch_notification_type_filter));
  if (!memory.Read(out->data(), address, out->size())) return -EFAULT;
  return 0;
}

}  // namespace

int64_t WatchedPipeId(int fd) {
  FdEntry entry = LookupChecked(fd);
  if (entry.kind == FdKind::kNotifyRead || entry.kind == FdKind::kNotifyWrite) {
    if (entry.pipe->pipe_id() > UINT32_MAX) return -EINVAL;
    return static_cast<int64_t>(entry.pipe->pipe_id());
  }
  if (real_fcntl.get()(fd, F_GETFD) < 0) return -EBADF;
  return -EINVAL;  // open, but not a notification pipe
}

int NotifyPipeIoctl(int fd, const FdEntry& entry, unsigned long request,
                    void* arg) {
  if (request == IOC_WATCH_QUEUE_SET_SIZE ||
      request == IOC_WATCH_QUEUE_SET_FILTER) {
    simd::PipeIoctl pipe_ioctl;
    pipe_ioctl.pipe_id = entry.pipe->pipe_id();
    pipe_ioctl.request = request;
    if (request == IOC_WATCH_QUEUE_SET_SIZE) {
      pipe_ioctl.value = reinterpret_cast<uintptr_t>(arg);
    } else if (int rc = ReadFilter(arg, &pipe_ioctl.filter); rc != 0) {
      return Fail(-rc);
    }
    int rc = Pipes().Ioctl(pipe_ioctl);
    return rc == 0 ? 0 : Fail(-rc);
  }
  if (request == FIONREAD && entry.kind == FdKind::kNotifyRead) {
    // Queued record bytes: never a loss marker or the owed loss record.
    const int total = entry.pipe->reader()->BytesQueued(fd);
    if (total < 0) return Fail(-total);
    CheckedUserMemory memory(SelfPid());
    if (!memory.Write(reinterpret_cast<uintptr_t>(arg), &total,
                      sizeof(total))) {
      return Fail(EFAULT);
    }
    return 0;
  }
  return real_ioctl.get()(fd, request, arg);
}

void PipesPrepareFork() { Pipes().LockForFork(); }
void PipesParentAfterFork() { Pipes().UnlockInParent(); }
void PipesChildAfterFork() { Pipes().ResetInChild(); }

}  // namespace xehil::preload

using xehil::preload::FdEntry;
using xehil::preload::FdKind;

XEHIL_EXPORT int pipe2(int fds[2], int flags) noexcept {
  XEHIL_OVERRIDE_GUARD("pipe2");
  auto& real_pipe2 = xehil::preload::real_pipe2;
  if ((flags & O_NOTIFICATION_PIPE) == 0) return real_pipe2.get()(fds, flags);
  // An ordinary pipe carries the records; packet mode (O_DIRECT) would cut
  // records apart, so it is not passed on.
  const int pipe_flags = flags & ~(O_NOTIFICATION_PIPE | O_DIRECT);
  if (real_pipe2.get()(fds, pipe_flags) != 0) return -1;
  const int read_fd = fds[0], write_fd = fds[1];
  auto& real_close = xehil::preload::real_close;
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int reader_error = 0;
  std::unique_ptr<xehil::sim::CarrierReader> reader =
      xehil::sim::CarrierReader::Create(&reader_error);
  uint64_t pipe_id = 0;
  int rc = wake_fd < 0 ? -errno
           : reader == nullptr
               ? -reader_error
               : xehil::preload::Pipes().Register(write_fd, &pipe_id);
  if (rc != 0) {
    real_close.get()(read_fd);
    real_close.get()(write_fd);
    if (wake_fd >= 0) real_close.get()(wake_fd);
    errno = -rc;
    return -1;
  }
  auto pipe = std::make_shared<xehil::preload::NotifyPipe>(
      pipe_id, wake_fd, &xehil::preload::ReleasePipe, std::move(reader));
  {
    xehil::preload::Forgotten stale_read = xehil::preload::Table().Add(
        read_fd, FdEntry{FdKind::kNotifyRead, xehil::preload::Identify(read_fd),
                         nullptr, pipe});
    xehil::preload::Forgotten stale_write = xehil::preload::Table().Add(
        write_fd, FdEntry{FdKind::kNotifyWrite,
                          xehil::preload::Identify(write_fd), nullptr, pipe});
    xehil::preload::HandleForgotten(stale_read);
    xehil::preload::HandleForgotten(stale_write);
  }
  return 0;
}
