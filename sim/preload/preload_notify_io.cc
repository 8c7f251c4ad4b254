// libxehil_preload.so: read(), write(), poll() and ppoll() on notification
// pipes, with the kernel's semantics:
//  - read is the kernel's pipe_read() (sim/carrier_reader.h): whole records
//    only, ENOBUFS when the next one does not fit, and the loss record made
//    up after the flagged record was consumed — in the same read only when
//    more records follow, else by the next read; poll and FIONREAD never
//    count it;
//  - the kernel is not a writer: once the program's last write end is
//    closed, an empty read end reads EOF and polls POLLHUP (POLLIN too while
//    records are queued), although the daemon keeps its own write end and
//    records still arrive;
//  - writing into a notification pipe fails with EXDEV.
// Descriptors that are not notification pipes cost one atomic load each.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <vector>

#include "sim/preload/preload_internal.h"
#include "sim/preload/reentry_guard.h"

extern "C" void __chk_fail(void) __attribute__((noreturn));

namespace xehil::preload {
namespace {

uint64_t NowNs() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u +
         static_cast<uint64_t>(now.tv_nsec);
}

// Blocks until the pipe has bytes or the last write end goes (the wake
// eventfd). 0, or -errno (EINTR included: read() would return it too for a
// signal without SA_RESTART).
int WaitReadable(int fd, const NotifyPipe& pipe) {
  pollfd set[2] = {{fd, POLLIN, 0}, {pipe.wake_fd(), POLLIN, 0}};
  const nfds_t count = pipe.wake_fd() >= 0 ? 2 : 1;
  if (real_ppoll.get()(set, count, nullptr, nullptr) < 0) return -errno;
  return 0;
}

ssize_t ReadNotify(int fd, void* buf, size_t count) {
  FdEntry entry = LookupChecked(fd);
  if (entry.kind != FdKind::kNotifyRead) {
    return real_read.get()(fd, buf, count);
  }
  NotifyPipe& pipe = *entry.pipe;
  for (;;) {
    // With no writer left the kernel says EOF when nothing is queued; the
    // daemon's write end must not make us block for ever.
    const bool writers_gone = pipe.writers_gone();
    const ssize_t n = pipe.reader()->Read(fd, static_cast<uint8_t*>(buf), count,
                                          writers_gone);
    if (n >= 0) {
      if (n == 0 && count > 0 && writers_gone) pipe.CountHangupAnswer(NowNs());
      return n;
    }
    if (n != -EAGAIN) {
      errno = static_cast<int>(-n);
      return -1;
    }
    const int flags = real_fcntl.get()(fd, F_GETFL);
    if (flags >= 0 && (flags & O_NONBLOCK)) {
      errno = EAGAIN;
      return -1;
    }
    if (int rc = WaitReadable(fd, pipe); rc != 0) {
      errno = -rc;
      return -1;
    }
  }
}

bool AnyNotifyReadEnd(const pollfd* fds, nfds_t nfds) {
  for (nfds_t i = 0; i < nfds; ++i) {
    if (Table().Hint(fds[i].fd) == FdKind::kNotifyRead) return true;
  }
  return false;
}

timespec Now() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return now;
}

// What is left of `deadline`, clamped at zero.
timespec Remaining(const timespec& deadline) {
  timespec now = Now();
  timespec left{deadline.tv_sec - now.tv_sec, deadline.tv_nsec - now.tv_nsec};
  if (left.tv_nsec < 0) {
    left.tv_nsec += 1000000000L;
    left.tv_sec -= 1;
  }
  if (left.tv_sec < 0) left = timespec{0, 0};
  return left;
}

// poll/ppoll when notification read ends are in the set. Ends whose
// writers are gone are answered from our state (and take no part in the real
// poll, which then does not block); the others are polled for real together
// with their wake eventfds, so that a blocked poll returns when another thread
// closes the last write end.
int PollNotify(pollfd* fds, nfds_t nfds, const timespec* timeout,
               const sigset_t* sigmask) {
  std::vector<std::shared_ptr<NotifyPipe>> pipes(nfds);
  for (nfds_t i = 0; i < nfds; ++i) {
    if (Table().Hint(fds[i].fd) != FdKind::kNotifyRead) continue;
    FdEntry entry = LookupChecked(fds[i].fd);
    if (entry.kind == FdKind::kNotifyRead) pipes[i] = entry.pipe;
  }
  timespec deadline{};
  if (timeout != nullptr) {
    timespec now = Now();
    deadline =
        timespec{now.tv_sec + timeout->tv_sec, now.tv_nsec + timeout->tv_nsec};
    if (deadline.tv_nsec >= 1000000000L) {
      deadline.tv_nsec -= 1000000000L;
      deadline.tv_sec += 1;
    }
  }
  std::vector<bool> use_wake(nfds, true);  // false once a wake fd is invalid
  std::vector<pollfd> set;
  std::vector<nfds_t> wake_owner;  // set index - nfds -> pipe index
  std::vector<short> emulated(nfds, 0);
  for (;;) {
    set.assign(fds, fds + nfds);
    wake_owner.clear();
    bool ready = false;
    for (nfds_t i = 0; i < nfds; ++i) {
      set[i].revents = 0;
      emulated[i] = 0;
      const NotifyPipe* pipe = pipes[i].get();
      if (pipe == nullptr) continue;
      if (pipe->writers_gone()) {
        // A loss record owed to the next read() is invisible here, as in the
        // kernel: only queued records make the end readable.
        int in_pipe = 0;
        real_ioctl.get()(fds[i].fd, FIONREAD, &in_pipe);
        short revents = POLLHUP;  // reported unasked
        if (in_pipe > 0) revents |= fds[i].events & (POLLIN | POLLRDNORM);
        if (revents == POLLHUP) {
          pipes[i]->CountHangupAnswer(NowNs());
        }
        emulated[i] = revents;
        set[i].fd = -1;  // answered here; the real poll ignores it
        ready |= revents != 0;
      } else if (pipe->wake_fd() >= 0 && use_wake[i]) {
        set.push_back(pollfd{pipe->wake_fd(), POLLIN, 0});
        wake_owner.push_back(i);
      }
    }
    // Something is ready already: only look, never wait.
    timespec left{0, 0};
    const timespec* wait = &left;
    if (!ready && timeout == nullptr) wait = nullptr;
    if (!ready && timeout != nullptr) left = Remaining(deadline);
    int rc = real_ppoll.get()(set.data(), set.size(), wait, sigmask);
    if (rc < 0) return -1;
    int count = 0;
    for (nfds_t i = 0; i < nfds; ++i) {
      fds[i].revents =
          set[i].fd == -1 && pipes[i] != nullptr ? emulated[i] : set[i].revents;
      if (fds[i].revents != 0) ++count;
    }
    if (count > 0 || rc == 0) return count;
    // Only wake eventfds fired: a last write end went. Look again; a wake
    // fd the program closed behind our back is left out from now on.
    for (size_t w = 0; w < wake_owner.size(); ++w) {
      if (set[nfds + w].revents & POLLNVAL) use_wake[wake_owner[w]] = false;
    }
  }
}

int Poll(pollfd* fds, nfds_t nfds, int timeout_ms) {
  if (!AnyNotifyReadEnd(fds, nfds)) {
    return real_poll.get()(fds, nfds, timeout_ms);
  }
  timespec timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
  return PollNotify(fds, nfds, timeout_ms < 0 ? nullptr : &timeout, nullptr);
}

int Ppoll(pollfd* fds, nfds_t nfds, const timespec* timeout,
          const sigset_t* sigmask) {
  if (!AnyNotifyReadEnd(fds, nfds)) {
    return real_ppoll.get()(fds, nfds, timeout, sigmask);
  }
  return PollNotify(fds, nfds, timeout, sigmask);
}

}  // namespace
}  // namespace xehil::preload

using xehil::preload::FdKind;
using xehil::preload::Table;

XEHIL_EXPORT ssize_t read(int fd, void* buf, size_t count) {
  XEHIL_OVERRIDE_GUARD("read");
  if (Table().Hint(fd) != FdKind::kNotifyRead) {
    return xehil::preload::real_read.get()(fd, buf, count);
  }
  return xehil::preload::ReadNotify(fd, buf, count);
}

XEHIL_EXPORT ssize_t __read_chk(int fd, void* buf, size_t count,
                                size_t buflen) {
  XEHIL_OVERRIDE_GUARD("__read_chk");
  if (Table().Hint(fd) != FdKind::kNotifyRead) {
    return xehil::preload::real_read_chk.get()(fd, buf, count, buflen);
  }
  if (count > buflen) __chk_fail();
  return xehil::preload::ReadNotify(fd, buf, count);
}

XEHIL_EXPORT ssize_t write(int fd, const void* buf, size_t count) {
  XEHIL_OVERRIDE_GUARD("write");
  if (Table().Hint(fd) == FdKind::kNotifyWrite &&
      xehil::preload::LookupChecked(fd).kind == FdKind::kNotifyWrite) {
    errno = EXDEV;  // userspace cannot post into a notification pipe
    return -1;
  }
  return xehil::preload::real_write.get()(fd, buf, count);
}

XEHIL_EXPORT int poll(pollfd* fds, nfds_t nfds, int timeout) {
  XEHIL_OVERRIDE_GUARD("poll");
  return xehil::preload::Poll(fds, nfds, timeout);
}

XEHIL_EXPORT int ppoll(pollfd* fds, nfds_t nfds, const timespec* timeout,
                       const sigset_t* sigmask) {
  XEHIL_OVERRIDE_GUARD("ppoll");
  return xehil::preload::Ppoll(fds, nfds, timeout, sigmask);
}

XEHIL_EXPORT int __poll_chk(pollfd* fds, nfds_t nfds, int timeout,
                            size_t fdslen) {
  XEHIL_OVERRIDE_GUARD("__poll_chk");
  if (fdslen / sizeof(*fds) < nfds) __chk_fail();
  return xehil::preload::Poll(fds, nfds, timeout);
}

XEHIL_EXPORT int __ppoll_chk(pollfd* fds, nfds_t nfds, const timespec* timeout,
                             const sigset_t* sigmask, size_t fdslen) {
  XEHIL_OVERRIDE_GUARD("__ppoll_chk");
  if (fdslen / sizeof(*fds) < nfds) __chk_fail();
  return xehil::preload::Ppoll(fds, nfds, timeout, sigmask);
}
