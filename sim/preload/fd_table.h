// FdTable: which of the program's file descriptors the interposer owns, and
// the state shared by every descriptor of one open file.
//
// Every ioctl, read, poll and close in the program asks Hint() first, a
// lock-free load from an array indexed by fd, so descriptors that are not
// ours pay one atomic load. Ours are:
//  - kDrm: a connection to xehil-simd standing in for an open DRM file; dup()s
//    share one DrmFile (and the socket, so the daemon releases the file when
//    the last of them is closed);
//  - kNotifyRead / kNotifyWrite: the ends of an ordinary pipe registered as a
//    notification pipe; every end and dup shares one NotifyPipe, which counts
//    the program's write ends: once the last is closed, the read end behaves
//    like a kernel notification pipe with no writer (EOF, POLLHUP).
//
// Descriptors can be closed behind our back (fclose of an fdopen()ed stream,
// close_range), so each entry keeps the file's identity (st_dev, st_ino) for
// the caller to verify before trusting it (RemoveIf drops a stale entry).
//
// Entries removed from the table come back as a Forgotten: the caller wakes
// readers if it was the last write end, and destroys it after the table's
// lock is released, because it may hold the last reference to a NotifyPipe
// whose destructor talks to the daemon.
//
//   FdTable table;
//   table.Add(fd, FdEntry{FdKind::kDrm, identity,
//   std::make_shared<DrmFile>()}); if (table.Hint(fd) != FdKind::kNone) {
//   FdEntry e = table.Get(fd); ... } int rc, err; Forgotten gone =
//   table.Close(fd, [&] { return real_close(fd); }, &rc, &err);
//
// Thread-safe.
#ifndef XEHIL_SIM_PRELOAD_FD_TABLE_H_
#define XEHIL_SIM_PRELOAD_FD_TABLE_H_

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/carrier_reader.h"

namespace xehil::preload {

enum class FdKind : uint8_t { kNone = 0, kDrm, kNotifyRead, kNotifyWrite };

// Which file a descriptor referred to when it was registered.
struct FdIdentity {
  uint64_t dev = 0;
  uint64_t ino = 0;
  bool operator==(const FdIdentity& o) const {
    return dev == o.dev && ino == o.ino;
  }
  bool operator!=(const FdIdentity& o) const { return !(*this == o); }
};

// One open DRM file, shared by its dup()s.
struct DrmFile {
  std::mutex mu;            // one round trip at a time on the connection
  uint32_t seq = 0;         // guarded by mu
  std::vector<uint8_t> rx;  // receive buffer, guarded by mu
};

// One notification pipe, shared by both ends and their dup()s.
class NotifyPipe {
 public:
  // Called once from the destructor, when no descriptor and no call in
  // flight refers to the pipe any more: tells the daemon and closes wake_fd.
  using Releaser = void (*)(const NotifyPipe& pipe);

  // `reader` makes up the kernel's read() and FIONREAD over the carrier
  // (null only in tests that never read).
  NotifyPipe(uint64_t pipe_id, int wake_fd, Releaser releaser,
             std::unique_ptr<sim::CarrierReader> reader = nullptr)
      : pipe_id_(pipe_id),
        wake_fd_(wake_fd),
        releaser_(releaser),
        reader_(std::move(reader)) {}
  ~NotifyPipe() {
    if (releaser_ != nullptr) releaser_(*this);
  }
  NotifyPipe(const NotifyPipe&) = delete;
  NotifyPipe& operator=(const NotifyPipe&) = delete;

  uint64_t pipe_id() const { return pipe_id_; }
  // An eventfd made readable when the last write end goes, so that a reader
  // blocked in poll wakes up (the daemon's write end keeps the real pipe
  // from ever reporting it); -1 if there is none.
  int wake_fd() const { return wake_fd_; }
  // True once every write end the program had is closed: the read end then
  // reads EOF when empty and polls POLLHUP, as the kernel's would.
  bool writers_gone() const {
    return writers_gone_.load(std::memory_order_acquire);
  }
  int read_ends() const { return read_ends_.load(); }
  int write_ends() const { return write_ends_.load(); }

  // The kernel's read() and FIONREAD over the carrier (thread-safe).
  sim::CarrierReader* reader() const { return reader_.get(); }

  // What the program did that only works by accident (xehil sim-run's
  // hints): poll() answers of POLLHUP and read()s of EOF it got because no
  // write end was left — on a kernel a loop over those spins — and when the
  // first and the last of them happened (CLOCK_MONOTONIC ns).
  void CountHangupAnswer(uint64_t now_ns) {
    if (hangup_answers_.fetch_add(1, std::memory_order_relaxed) == 0) {
      first_hangup_ns_.store(now_ns, std::memory_order_relaxed);
    }
    last_hangup_ns_.store(now_ns, std::memory_order_relaxed);
  }
  uint64_t hangup_answers() const { return hangup_answers_.load(); }
  uint64_t first_hangup_ns() const { return first_hangup_ns_.load(); }
  uint64_t last_hangup_ns() const { return last_hangup_ns_.load(); }

 private:
  friend class FdTable;
  const uint64_t pipe_id_;
  const int wake_fd_;
  const Releaser releaser_;
  std::atomic<int> read_ends_{0};
  std::atomic<int> write_ends_{0};
  std::atomic<bool> writers_gone_{false};
  const std::unique_ptr<sim::CarrierReader> reader_;
  std::atomic<uint64_t> hangup_answers_{0};
  std::atomic<uint64_t> first_hangup_ns_{0};
  std::atomic<uint64_t> last_hangup_ns_{0};
};

struct FdEntry {
  FdKind kind = FdKind::kNone;
  FdIdentity identity;
  std::shared_ptr<DrmFile> drm;      // kDrm
  std::shared_ptr<NotifyPipe> pipe;  // kNotifyRead, kNotifyWrite
};

// An entry the table let go of. Destroy it outside the table's lock.
struct Forgotten {
  FdEntry entry;
  // It was the program's last write end of its pipe: wake the readers.
  bool last_writer = false;
};

class FdTable {
 public:
  // Descriptors below this have a lock-free hint; above it, a locked map.
  static constexpr int kFastFds = 65536;

  FdTable();
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  // What `fd` is, as far as the table knows. Lock-free below kFastFds.
  FdKind Hint(int fd) const;
  // Every notification pipe with a read end in the table, with one of its
  // read-end descriptors.
  std::vector<std::pair<int, std::shared_ptr<NotifyPipe>>> NotifyReadEnds()
      const;
  // A copy of the entry (kind kNone if there is none).
  FdEntry Get(int fd) const;

  // Registers `fd`; an older entry for the same number (stale: closed behind
  // our back) is returned.
  Forgotten Add(int fd, FdEntry entry);
  Forgotten Remove(int fd);
  // Removes the entry only if it still names `identity`.
  Forgotten RemoveIf(int fd, const FdIdentity& identity);

  // close(fd) for a descriptor of ours: forgets it, then runs `do_close`
  // (returning 0 or -1 with errno), both under the lock, so no other thread
  // can register the number in between. Forgetting first matters: the
  // moment the number is free, code that does not go through the table (a
  // sanitizer's symbolizer, another thread) may get it and close it again.
  // Linux frees the number whatever close() returns; EBADF means it was not
  // open, so the entry was stale anyway.
  template <typename CloseFn>
  Forgotten Close(int fd, CloseFn do_close, int* rc, int* err) {
    std::lock_guard<std::mutex> lock(mu_);
    Forgotten gone = RemoveLocked(fd);
    *rc = do_close();
    *err = *rc == 0 ? 0 : errno;
    return gone;
  }

  // dup(oldfd), fcntl(F_DUPFD*) (newfd -1), dup2/dup3 (newfd >= 0): runs
  // `do_dup` (returning the new fd or -1 with errno) under the lock. The new
  // descriptor shares oldfd's entry; whatever newfd was before is forgotten.
  template <typename DupFn>
  Forgotten Dup(int oldfd, int newfd, DupFn do_dup, int* rc, int* err) {
    std::lock_guard<std::mutex> lock(mu_);
    *rc = do_dup();
    *err = *rc >= 0 ? 0 : errno;
    if (*rc < 0 || *rc == oldfd) return Forgotten{};
    Forgotten gone;
    if (newfd >= 0) gone = RemoveLocked(*rc);
    FdEntry source = GetLocked(oldfd);
    if (source.kind != FdKind::kNone) {
      Forgotten stale = AddLocked(*rc, std::move(source));
      if (gone.entry.kind == FdKind::kNone) gone = std::move(stale);
    }
    return gone;
  }

  // Hold across fork() so the child never inherits a locked table.
  void LockForFork() { mu_.lock(); }
  void UnlockAfterFork() { mu_.unlock(); }

 private:
  FdEntry GetLocked(int fd) const;
  Forgotten AddLocked(int fd, FdEntry entry);
  Forgotten RemoveLocked(int fd);
  void SetHintLocked(int fd, FdKind kind);

  mutable std::mutex mu_;
  std::unordered_map<int, FdEntry> entries_;  // guarded by mu_
  std::atomic<int> slow_entries_{0};          // entries at or above kFastFds
  std::atomic<uint8_t> hints_[kFastFds];
};

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_FD_TABLE_H_
