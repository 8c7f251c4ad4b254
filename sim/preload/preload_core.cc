// libxehil_preload.so: start-up, the descriptor table, and the overrides of
// close, dup, dup2, dup3 and fcntl(F_DUPFD*), which keep the table in step
// with the program's descriptors.
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/preload/preload_internal.h"
#include "sim/preload/reentry_guard.h"

namespace xehil::preload {

RealFn<OpenFn> real_open("open"), real_open64("open64");
RealFn<OpenatFn> real_openat("openat"), real_openat64("openat64");
RealFn<Open2Fn> real_open_2("__open_2"), real_open64_2("__open64_2");
RealFn<Openat2Fn> real_openat_2("__openat_2"), real_openat64_2("__openat64_2");
RealFn<IoctlFn> real_ioctl("ioctl");
RealFn<CloseFn> real_close("close");
RealFn<DupFn> real_dup("dup");
RealFn<Dup2Fn> real_dup2("dup2");
RealFn<Dup3Fn> real_dup3("dup3");
RealFn<FcntlFn> real_fcntl("fcntl"), real_fcntl64("fcntl64");
RealFn<Pipe2Fn> real_pipe2("pipe2");
RealFn<PollFn> real_poll("poll");
RealFn<PpollFn> real_ppoll("ppoll");
RealFn<PollChkFn> real_poll_chk("__poll_chk");
RealFn<PpollChkFn> real_ppoll_chk("__ppoll_chk");
RealFn<ReadFn> real_read("read");
RealFn<ReadChkFn> real_read_chk("__read_chk");
RealFn<WriteFn> real_write("write");

namespace {

void ResolveAll() {
  real_open.get();
  real_open64.get();
  real_openat.get();
  real_openat64.get();
  real_open_2.get();
  real_open64_2.get();
  real_openat_2.get();
  real_openat64_2.get();
  real_ioctl.get();
  real_close.get();
  real_dup.get();
  real_dup2.get();
  real_dup3.get();
  real_fcntl.get();
  real_fcntl64.get();
  real_pipe2.get();
  real_poll.get();
  real_ppoll.get();
  real_poll_chk.get();
  real_ppoll_chk.get();
  real_read.get();
  real_read_chk.get();
  real_write.get();
}

// fork() must not leave the child with a table or registry lock that a
// thread of the parent held at that moment.
void PrepareFork() {
  PipesPrepareFork();
  Table().LockForFork();
}
void ParentAfterFork() {
  Table().UnlockAfterFork();
  PipesParentAfterFork();
}
std::atomic<pid_t> self_pid{0};

void ChildAfterFork() {
  self_pid.store(0, std::memory_order_relaxed);
  Table().UnlockAfterFork();
  PipesChildAfterFork();
}

__attribute__((constructor)) void Init() {
  ResolveAll();
  const char* strict = ::getenv("XEHIL_PRELOAD_STRICT");
  ReentryGuard::set_strict(strict != nullptr && strcmp(strict, "1") == 0);
  Table();
  ::pthread_atfork(&PrepareFork, &ParentAfterFork, &ChildAfterFork);
}

// Restores errno when the override returns, whatever ran in between.
template <typename Result>
Result WithErrno(Result rc, int err) {
  if (rc < 0) errno = err;
  return rc;
}

// dup(), dup2(), dup3(), fcntl(F_DUPFD*) of a descriptor that may be ours.
template <typename DupFn>
int TableDup(int oldfd, int newfd, DupFn do_dup) {
  int rc = -1, err = 0;
  {
    Forgotten gone = Table().Dup(oldfd, newfd, do_dup, &rc, &err);
    HandleForgotten(gone);
  }
  return WithErrno(rc, err);
}

int Fcntl(RealFn<FcntlFn>& real, int fd, int cmd, void* arg) {
  if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
      Table().Hint(fd) != FdKind::kNone) {
    return TableDup(fd, -1, [&] { return real.get()(fd, cmd, arg); });
  }
  return real.get()(fd, cmd, arg);
}

}  // namespace

int RealClose(int fd) { return real_close.get()(fd); }

pid_t SelfPid() {
  pid_t pid = self_pid.load(std::memory_order_relaxed);
  if (pid == 0) {
    pid = ::getpid();
    self_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}

FdTable& Table() {
  static FdTable* table = new FdTable();
  return *table;
}

FdIdentity Identify(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return FdIdentity{};
  return FdIdentity{static_cast<uint64_t>(st.st_dev),
                    static_cast<uint64_t>(st.st_ino)};
}

FdEntry LookupChecked(int fd) {
  FdEntry entry = Table().Get(fd);
  if (entry.kind == FdKind::kNone) return entry;
  const int saved = errno;
  FdIdentity now = Identify(fd);
  if (now != entry.identity || now == FdIdentity{}) {
    // Closed behind our back (fclose of fdopen, close_range, ...) and
    // perhaps reused: not ours any more.
    Forgotten gone = Table().RemoveIf(fd, entry.identity);
    HandleForgotten(gone);
    entry = FdEntry{};
  }
  errno = saved;
  return entry;
}

void HandleForgotten(Forgotten& gone) {
  if (!gone.last_writer || gone.entry.pipe == nullptr) return;
  const int wake = gone.entry.pipe->wake_fd();
  if (wake < 0) return;
  // Readers blocked in poll/read on the read end wake up and see EOF.
  const uint64_t one = 1;
  const int saved = errno;
  real_write.get()(wake, &one, sizeof(one));
  errno = saved;
}

void WarnOnce(std::atomic<bool>& once, const std::string& line) {
  if (once.exchange(true)) return;
  const std::string text = "xehil-preload: " + line + "\n";
  const int saved = errno;
  real_write.get()(STDERR_FILENO, text.data(), text.size());
  errno = saved;
}

}  // namespace xehil::preload

using xehil::preload::Fcntl;
using xehil::preload::FdKind;
using xehil::preload::Forgotten;
using xehil::preload::Table;
using xehil::preload::TableDup;
using xehil::preload::WithErrno;

// For tests: how many times the interposer re-entered an override.
XEHIL_EXPORT unsigned long long xehil_preload_violations(void) {
  return xehil::preload::ReentryGuard::violations();
}

XEHIL_EXPORT int close(int fd) {
  XEHIL_OVERRIDE_GUARD("close");
  if (Table().Hint(fd) == FdKind::kNone) {
    return xehil::preload::real_close.get()(fd);
  }
  int rc = -1, err = 0;
  {
    Forgotten gone = Table().Close(
        fd, [fd] { return xehil::preload::real_close.get()(fd); }, &rc, &err);
    xehil::preload::HandleForgotten(gone);
  }
  return WithErrno(rc, err);
}

XEHIL_EXPORT int dup(int fd) noexcept {
  XEHIL_OVERRIDE_GUARD("dup");
  if (Table().Hint(fd) == FdKind::kNone) {
    return xehil::preload::real_dup.get()(fd);
  }
  return TableDup(fd, -1, [fd] { return xehil::preload::real_dup.get()(fd); });
}

XEHIL_EXPORT int dup2(int oldfd, int newfd) noexcept {
  XEHIL_OVERRIDE_GUARD("dup2");
  if (Table().Hint(oldfd) == FdKind::kNone &&
      Table().Hint(newfd) == FdKind::kNone) {
    return xehil::preload::real_dup2.get()(oldfd, newfd);
  }
  return TableDup(oldfd, newfd, [oldfd, newfd] {
    return xehil::preload::real_dup2.get()(oldfd, newfd);
  });
}

XEHIL_EXPORT int dup3(int oldfd, int newfd, int flags) noexcept {
  XEHIL_OVERRIDE_GUARD("dup3");
  if (Table().Hint(oldfd) == FdKind::kNone &&
      Table().Hint(newfd) == FdKind::kNone) {
    return xehil::preload::real_dup3.get()(oldfd, newfd, flags);
  }
  return TableDup(oldfd, newfd, [oldfd, newfd, flags] {
    return xehil::preload::real_dup3.get()(oldfd, newfd, flags);
  });
}

// The third argument is read as a pointer, as the C library does: every
// fcntl argument (int, long, pointer) travels in one register.
XEHIL_EXPORT int fcntl(int fd, int cmd, ...) {
  XEHIL_OVERRIDE_GUARD("fcntl");
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return Fcntl(xehil::preload::real_fcntl, fd, cmd, arg);
}

XEHIL_EXPORT int fcntl64(int fd, int cmd, ...) {
  XEHIL_OVERRIDE_GUARD("fcntl64");
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return Fcntl(xehil::preload::real_fcntl64, fd, cmd, arg);
}
