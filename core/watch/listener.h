// Listener: one owned thread that reads a notification pipe, decodes its
// records and hands each event to a callback.
//
// The thread blocks in poll() on the pipe and on a stop eventfd with no
// timeout, so an idle listener never wakes up. After each wake-up it reads
// (through the pipe's NotificationReader, if any) until EAGAIN: the kernel
// makes a loss record up in the read() after the one that consumed the
// flagged record, invisible to poll(), so a single read per wake-up could
// leave it pending until the next record arrives. Start() makes the read end
// O_NONBLOCK for that. It keeps the pipe's write end
// open for its whole life: the kernel is not a writer, and a notification
// pipe whose last write end is closed reads EOF and polls POLLHUP at once.
//
//   XEHIL_ASSIGN_OR_RETURN(NotificationPipe pipe,
//                          backend.OpenNotificationPipe({}));
//   // ... subscribe pipe.read_end with DRM_IOCTL_XE_WATCH_QUEUE ...
//   XEHIL_ASSIGN_OR_RETURN(
//       std::unique_ptr<Listener> listener,
//       Listener::Start(std::move(pipe), [&](const WatchEvent& e) {
//         engine.Enqueue(e);  // quick: runs on the listener thread
//       }));
//   ...
//   listener->Stop();  // prompt; joins the thread and closes the fds
//
// The stream ends on its own when the pipe reads EOF (every writer closed;
// buffered records are delivered first), on a read error (end_status() says
// which), or, with Options::end_on_removal, right after a Removed event is
// delivered (the watched DRM file is gone; later records in the same read are
// dropped). WaitForEnd() waits for that.
#ifndef XEHIL_CORE_WATCH_LISTENER_H_
#define XEHIL_CORE_WATCH_LISTENER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/backend/kernel_backend.h"
#include "core/base/unique_fd.h"
#include "core/watch/events.h"
#include "core/watch/record_decoder.h"

namespace xehil {

class Listener {
 public:
  // Called on the listener thread, once per event, in stream order. It must
  // return quickly (enqueue, don't act): while it runs the pipe is not read.
  // It may call Stop() (which then only signals); it must not destroy the
  // Listener.
  using Callback = std::function<void(const WatchEvent&)>;

  static constexpr size_t kMinReadSize = 4096;

  struct Options {
    // Bytes per read(); at least kMinReadSize.
    size_t read_size = size_t{64} * 1024;
    // End the stream after delivering a Removed event.
    bool end_on_removal = true;
    // If set, sees the raw bytes of every read (before decoding), on the
    // listener thread; for tools that dump records verbatim. Must be quick.
    std::function<void(absl::Span<const uint8_t>)> on_read;
  };

  // Why the thread left its loop.
  enum class EndReason {
    kRunning,  // not ended yet
    kStopped,  // Stop() was called
    kEof,      // every writer closed and the pipe was drained
    kRemoved,  // a Removed event was delivered with end_on_removal
    kError,    // poll() or read() failed; see end_status()
  };

  struct Stats {
    uint64_t bytes = 0;      // bytes read from the pipe
    uint64_t reads = 0;      // read() calls that returned data or EOF
    uint64_t records = 0;    // well-formed records decoded
    uint64_t malformed = 0;  // malformed records skipped (and one cut by EOF)
    uint64_t vm_errors = 0;  // events delivered, by kind
    uint64_t removals = 0;
    uint64_t losses = 0;
    uint64_t unknowns = 0;
  };

  // Takes ownership of both ends of `pipe` (write_end may be invalid, in which
  // case EOF comes when the caller's writers close) and starts the thread.
  // Fails with InvalidArgument for an invalid read end, an empty callback or
  // a read_size below kMinReadSize, or with the errno of eventfd()/thread
  // creation.
  static absl::StatusOr<std::unique_ptr<Listener>> Start(NotificationPipe pipe,
                                                         Callback callback,
                                                         Options options);
  static absl::StatusOr<std::unique_ptr<Listener>> Start(NotificationPipe pipe,
                                                         Callback callback) {
    return Start(std::move(pipe), std::move(callback), Options());
  }

  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  // Calls Stop().
  ~Listener();

  // Wakes the thread through the eventfd, joins it and closes every fd.
  // Events not yet delivered are dropped. Idempotent and thread-safe; from the
  // callback it only signals (the thread exits once the callback returns).
  void Stop();

  // Waits until the thread has left its loop (on its own or by Stop()).
  // Returns false if `timeout` passed first.
  bool WaitForEnd(absl::Duration timeout);
  void WaitForEnd();

  EndReason end_reason() const;
  // OK unless the stream ended with kError.
  absl::Status end_status() const;
  Stats stats() const;

 private:
  Listener(NotificationPipe pipe, UniqueFd stop_fd, Callback callback,
           Options options);

  void Run();
  // Reads once and delivers what it decoded. Returns kRunning to go on
  // (drained_ says whether the read found the pipe empty); for kError,
  // `*error` says what failed.
  EndReason ReadAndDeliver(std::vector<uint8_t>* buffer,
                           std::vector<WatchEvent>* events,
                           absl::Status* error);
  void CountEvent(const WatchEvent& event);
  void End(EndReason reason, absl::Status status);
  bool Ended() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  NotificationPipe pipe_;
  UniqueFd stop_fd_;
  const Callback callback_;
  const Options options_;
  RecordDecoder decoder_;  // listener thread only
  bool drained_ = false;   // listener thread only: the last read got EAGAIN
  std::atomic<bool> stop_requested_{false};

  absl::Mutex stop_mu_;  // serialises Stop()
  std::thread thread_ ABSL_GUARDED_BY(stop_mu_);

  mutable absl::Mutex mu_;
  EndReason end_reason_ ABSL_GUARDED_BY(mu_) = EndReason::kRunning;
  absl::Status end_status_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil

#endif  // XEHIL_CORE_WATCH_LISTENER_H_
