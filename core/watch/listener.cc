#include "core/watch/listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>
#include <utility>

#include "absl/types/span.h"
#include "core/base/errno_status.h"

namespace xehil {
namespace {

// The listener whose thread is running this code, so Stop() called from the
// callback signals instead of joining its own thread.
thread_local const Listener* current_listener = nullptr;

}  // namespace

absl::StatusOr<std::unique_ptr<Listener>> Listener::Start(NotificationPipe pipe,
                                                          Callback callback,
                                                          Options options) {
  if (!pipe.read_end.valid()) {
    return absl::InvalidArgumentError("Listener: invalid pipe read end");
  }
  if (!callback) {
    return absl::InvalidArgumentError("Listener: empty callback");
  }
  if (options.read_size < kMinReadSize) {
    return absl::InvalidArgumentError(
        "Listener: read_size must be at least 4096 bytes");
  }
  UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd.valid()) return ErrnoToStatus(errno, "Listener: eventfd");
  // Each wake-up reads until EAGAIN, which needs a non-blocking read end.
  const int flags = ::fcntl(pipe.read_end.get(), F_GETFL);
  if (flags < 0 ||
      ::fcntl(pipe.read_end.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return ErrnoToStatus(errno, "Listener: O_NONBLOCK on the read end");
  }

  std::unique_ptr<Listener> listener(
      new Listener(std::move(pipe), std::move(stop_fd), std::move(callback),
                   std::move(options)));
  try {
    absl::MutexLock lock(&listener->stop_mu_);
    listener->thread_ = std::thread(&Listener::Run, listener.get());
  } catch (const std::system_error& e) {
    return ErrnoToStatus(e.code().value(), "Listener: starting thread");
  }
  return listener;
}

Listener::Listener(NotificationPipe pipe, UniqueFd stop_fd, Callback callback,
                   Options options)
    : pipe_(std::move(pipe)),
      stop_fd_(std::move(stop_fd)),
      callback_(std::move(callback)),
      options_(std::move(options)) {}

Listener::~Listener() { Stop(); }

void Listener::Stop() {
  stop_requested_.store(true, std::memory_order_relaxed);
  if (current_listener == this) {
    // On our own thread: the fd stays open until someone joins us.
    const uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof(one));
    return;
  }
  absl::MutexLock lock(&stop_mu_);
  if (thread_.joinable()) {
    // EAGAIN (counter saturated) still leaves the eventfd readable.
    const uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof(one));
    thread_.join();
  }
  pipe_.read_end.reset();
  pipe_.write_end.reset();
  stop_fd_.reset();
}

void Listener::Run() {
  current_listener = this;
  std::vector<uint8_t> buffer(options_.read_size);
  std::vector<WatchEvent> events;
  while (true) {
    pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0},
                     {pipe_.read_end.get(), POLLIN, 0}};
    // No timeout: the thread sleeps until there is data, EOF or a stop.
    int rc = ::poll(fds, 2, -1);
    if (rc < 0) {
      if (errno == EINTR) continue;
      End(EndReason::kError, ErrnoToStatus(errno, "Listener: poll"));
      return;
    }
    if (fds[0].revents != 0 || stop_requested_.load()) {
      End(EndReason::kStopped, absl::OkStatus());
      return;
    }
    if ((fds[1].revents & POLLNVAL) != 0) {
      End(EndReason::kError,
          ErrnoToStatus(EBADF, "Listener: poll on notification pipe"));
      return;
    }
    if (fds[1].revents == 0) continue;
    // Read until EAGAIN: a kernel makes the loss record up in the read()
    // after the one that consumed the flagged record, and poll() does not
    // report it, so stopping at the first read could leave it pending until
    // the next record, maybe for ever. POLLHUP with records queued also
    // reports POLLIN; reading until read() returns 0 drains them first.
    absl::Status error;
    EndReason reason;
    do {
      reason = ReadAndDeliver(&buffer, &events, &error);
    } while (reason == EndReason::kRunning && !drained_ &&
             !stop_requested_.load(std::memory_order_relaxed));
    if (reason != EndReason::kRunning) {
      End(reason, std::move(error));
      return;
    }
  }
}

Listener::EndReason Listener::ReadAndDeliver(std::vector<uint8_t>* buffer,
                                             std::vector<WatchEvent>* events,
                                             absl::Status* error) {
  drained_ = false;
  const ssize_t n = ReadNotificationPipe(pipe_, buffer->data(), buffer->size());
  if (n == -EAGAIN) {
    drained_ = true;
    return EndReason::kRunning;
  }
  if (n < 0) {
    *error = ErrnoToStatus(static_cast<int>(-n),
                           "Listener: read from notification pipe");
    return EndReason::kError;
  }

  events->clear();
  if (n > 0) {
    if (options_.on_read) {
      options_.on_read(
          absl::MakeConstSpan(buffer->data(), static_cast<size_t>(n)));
    }
    decoder_.Feed(absl::MakeConstSpan(buffer->data(), static_cast<size_t>(n)),
                  events);
  }
  {
    absl::MutexLock lock(&mu_);
    ++stats_.reads;
    stats_.bytes += static_cast<uint64_t>(n);
    const RecordDecoder::Stats d = decoder_.stats();
    stats_.records = d.records;
    stats_.malformed = d.malformed;
    // A record cut short by EOF can never complete.
    if (n == 0 && decoder_.carried() > 0) ++stats_.malformed;
  }
  if (n == 0) return EndReason::kEof;

  for (const WatchEvent& event : *events) {
    if (stop_requested_.load(std::memory_order_relaxed)) {
      return EndReason::kStopped;
    }
    CountEvent(event);
    callback_(event);
    if (options_.end_on_removal && std::holds_alternative<Removed>(event)) {
      return EndReason::kRemoved;
    }
  }
  return EndReason::kRunning;
}

void Listener::CountEvent(const WatchEvent& event) {
  absl::MutexLock lock(&mu_);
  if (std::holds_alternative<VmError>(event)) {
    ++stats_.vm_errors;
  } else if (std::holds_alternative<Removed>(event)) {
    ++stats_.removals;
  } else if (std::holds_alternative<Lost>(event)) {
    ++stats_.losses;
  } else {
    ++stats_.unknowns;
  }
}

void Listener::End(EndReason reason, absl::Status status) {
  absl::MutexLock lock(&mu_);
  end_reason_ = reason;
  end_status_ = std::move(status);
}

bool Listener::Ended() const {
  mu_.AssertReaderHeld();
  return end_reason_ != EndReason::kRunning;
}

bool Listener::WaitForEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  // Abseil's deadline arithmetic saturates: a huge timeout waits forever.
  return mu_.AwaitWithTimeout(absl::Condition(this, &Listener::Ended),
                              std::max(timeout, absl::ZeroDuration()));
}

void Listener::WaitForEnd() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(this, &Listener::Ended));
}

Listener::EndReason Listener::end_reason() const {
  absl::MutexLock lock(&mu_);
  return end_reason_;
}

absl::Status Listener::end_status() const {
  absl::MutexLock lock(&mu_);
  return end_status_;
}

Listener::Stats Listener::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace xehil
