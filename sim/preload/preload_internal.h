// Internals of libxehil_preload.so shared by its source files (not a
// library of its own: the overrides must be linked into the .so itself).
//
// The rule the whole interposer follows: it never calls a function it
// overrides by name. Every such call goes through a RealFn, a pointer that
// dlsym(RTLD_NEXT, ...) resolves to the next definition (the C library's),
// so nothing inside the .so is bound to our own overrides. preload_symbols_test
// checks the built .so for relocations naming an overridden symbol, and
// ReentryGuard catches violations at run time.
#ifndef XEHIL_SIM_PRELOAD_PRELOAD_INTERNAL_H_
#define XEHIL_SIM_PRELOAD_PRELOAD_INTERNAL_H_

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "sim/preload/fd_table.h"
#include "sim/preload/reentry_guard.h"
#include "sim/simd/wire.h"

#define XEHIL_EXPORT extern "C" __attribute__((visibility("default")))

// Opens the re-entry guard of an override (reentry_guard.h); first thing in
// every exported override.
#define XEHIL_OVERRIDE_GUARD(name)                     \
  ::xehil::preload::ReentryGuard xehil_override_guard( \
      name, __builtin_return_address(0))

namespace xehil::preload {

// A stand-in for a C library function that dlsym could not find: fails
// with ENOSYS instead of crashing on a null pointer.
template <typename Fn>
struct MissingFn;
template <typename R, typename... A>
struct MissingFn<R (*)(A...)> {
  static R Call(A...) {
    errno = ENOSYS;
    return static_cast<R>(-1);
  }
};
template <typename R, typename... A>
struct MissingFn<R (*)(A..., ...)> {
  static R Call(A..., ...) {
    errno = ENOSYS;
    return static_cast<R>(-1);
  }
};

// The C library's definition of `name`, resolved on first use (the
// constructor resolves them all before main; calls made earlier, from other
// libraries' constructors, resolve lazily). Constant-initialised and
// trivially destructible, so it works before and after static
// construction.
template <typename Fn>
class RealFn {
 public:
  constexpr explicit RealFn(const char* name) : name_(name) {}
  Fn get() {
    Fn fn = fn_.load(std::memory_order_acquire);
    if (fn == nullptr) {
      fn = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name_));
      if (fn == nullptr) fn = &MissingFn<Fn>::Call;
      fn_.store(fn, std::memory_order_release);
    }
    return fn;
  }
  bool available() { return get() != static_cast<Fn>(&MissingFn<Fn>::Call); }

 private:
  const char* const name_;
  std::atomic<Fn> fn_{nullptr};
};

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using Open2Fn = int (*)(const char*, int);
using Openat2Fn = int (*)(int, const char*, int);
using IoctlFn = int (*)(int, unsigned long, ...);
using CloseFn = int (*)(int);
using DupFn = int (*)(int);
using Dup2Fn = int (*)(int, int);
using Dup3Fn = int (*)(int, int, int);
using FcntlFn = int (*)(int, int, ...);
using Pipe2Fn = int (*)(int*, int);
using PollFn = int (*)(pollfd*, nfds_t, int);
using PpollFn = int (*)(pollfd*, nfds_t, const timespec*, const sigset_t*);
using PollChkFn = int (*)(pollfd*, nfds_t, int, size_t);
using PpollChkFn = int (*)(pollfd*, nfds_t, const timespec*, const sigset_t*,
                           size_t);
using ReadFn = ssize_t (*)(int, void*, size_t);
using ReadChkFn = ssize_t (*)(int, void*, size_t, size_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);

extern RealFn<OpenFn> real_open, real_open64;
extern RealFn<OpenatFn> real_openat, real_openat64;
extern RealFn<Open2Fn> real_open_2, real_open64_2;
extern RealFn<Openat2Fn> real_openat_2, real_openat64_2;
extern RealFn<IoctlFn> real_ioctl;
extern RealFn<CloseFn> real_close;
extern RealFn<DupFn> real_dup;
extern RealFn<Dup2Fn> real_dup2;
extern RealFn<Dup3Fn> real_dup3;
extern RealFn<FcntlFn> real_fcntl, real_fcntl64;
extern RealFn<Pipe2Fn> real_pipe2;
extern RealFn<PollFn> real_poll;
extern RealFn<PpollFn> real_ppoll;
extern RealFn<PollChkFn> real_poll_chk;
extern RealFn<PpollChkFn> real_ppoll_chk;
extern RealFn<ReadFn> real_read;
extern RealFn<ReadChkFn> real_read_chk;
extern RealFn<WriteFn> real_write;

// Closes with the real close(); for simd_link's CloseFn.
int RealClose(int fd);

// getpid(), asked once per process: fork() children ask again (atfork).
// A child made by raw clone() or _Fork(), which skip atfork handlers, would
// see its parent's pid; CheckedUserMemory then reads the parent only where
// ptrace rules allow it, which is why only copies use this.
pid_t SelfPid();

// The process's descriptor table (never destroyed).
FdTable& Table();

// (st_dev, st_ino) of an open descriptor; {0, 0} if fstat fails.
FdIdentity Identify(int fd);

// The table's entry for `fd` after checking the descriptor still refers to
// the file it was registered with; a stale entry is dropped (kind kNone).
FdEntry LookupChecked(int fd);

// Acts on a forgotten entry (wakes readers after the last write end); the
// caller destroys it afterwards, outside any lock.
void HandleForgotten(Forgotten& gone);

// Writes "xehil-preload: <line>\n" to stderr, the first time `once` is
// passed only.
void WarnOnce(std::atomic<bool>& once, const std::string& line);

// DRM ioctl on one of our DRM descriptors: 0 or -1 with errno.
int DrmIoctl(int fd, const FdEntry& entry, unsigned long request, void* arg);
// Ioctl on one of our notification pipe ends: 0 or -1 with errno.
int NotifyPipeIoctl(int fd, const FdEntry& entry, unsigned long request,
                    void* arg);
// The pipe id that stands in for notification pipe `fd` in
// DRM_IOCTL_XE_WATCH_QUEUE, or -EBADF / -EINVAL as the kernel would answer.
int64_t WatchedPipeId(int fd);

// With XEHIL_PRELOAD_REPORT=PATH set, appends one line to PATH for a
// notification pipe the program misused (preload_report.cc, read by xehil
// sim-run): `pipe=ID pid=PID hangups=N first_ns=T last_ns=T loss_owed=0|1`.
// `read_fd` is a live read end (-1 once every descriptor is closed).
void ReportPipe(const NotifyPipe& pipe, int read_fd);

// Fork handling of the pipe registry (preload_pipe.cc).
void PipesPrepareFork();
void PipesParentAfterFork();
void PipesChildAfterFork();

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_PRELOAD_INTERNAL_H_
