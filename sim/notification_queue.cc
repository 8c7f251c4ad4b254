#include "sim/notification_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "core/uapi/xe_uapi.h"
#include "sim/carrier_notification_reader.h"

namespace xehil::sim {
namespace {

// Types the (patched) kernel knows; filter entries for others are ignored.
constexpr uint32_t kKnownWatchTypes = WATCH_TYPE_DRM_XE_NOTIFY + 1;

// 512 notes of up to 127 bytes plus interleaved 8-byte loss records need
// ~70 KB; the default 64 KiB pipe is too small, and writes that do not fill
// a page still hold one, so leave generous room.
constexpr int kPipeSizes[] = {256 * 1024, 128 * 1024};

watch_notification ReadHeader(absl::Span<const uint8_t> record) {
  watch_notification header;
  std::memcpy(&header, record.data(), sizeof(header));
  return header;
}

std::vector<uint8_t> MetaRecord(uint32_t subtype, uint32_t info) {
  watch_notification header{};
  header.type = WATCH_TYPE_META;
  header.subtype = subtype;
  header.info = info;
  std::vector<uint8_t> bytes(sizeof(header));
  std::memcpy(bytes.data(), &header, sizeof(header));
  return bytes;
}

// Writes to a pipe whose reader may be gone without letting SIGPIPE kill the
// process: the signal is blocked for this thread and, if this write raised
// it, consumed before the old mask returns. Returns write()'s result/errno.
ssize_t WriteNoSigpipe(int fd, const uint8_t* data, size_t size, int* err) {
  sigset_t sigpipe;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  // A SIGPIPE already pending belongs to someone else; leave it alone.
  const bool was_pending =
      sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
  sigset_t old_mask;
  const bool masked = pthread_sigmask(SIG_BLOCK, &sigpipe, &old_mask) == 0;
  ssize_t n;
  do {
    n = ::write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  *err = n < 0 ? errno : 0;
  if (masked) {
    if (*err == EPIPE && !was_pending) {
      const timespec zero{0, 0};
      while (sigtimedwait(&sigpipe, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
  return n;
}

}  // namespace

absl::StatusOr<std::pair<std::shared_ptr<NotificationQueue>, NotificationPipe>>
NotificationQueue::Create() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoToStatus(-errno, "pipe2");
  NotificationPipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1]), nullptr};
  absl::StatusOr<std::shared_ptr<NotificationReader>> reader =
      MakeCarrierNotificationReader();
  if (!reader.ok()) return reader.status();
  pipe.reader = *std::move(reader);

  UniqueFd write_end(::fcntl(pipe.write_end.get(), F_DUPFD_CLOEXEC, 0));
  if (!write_end.valid()) return ErrnoToStatus(-errno, "dup pipe write end");
  absl::StatusOr<std::shared_ptr<NotificationQueue>> queue =
      Adopt(std::move(write_end));
  if (!queue.ok()) return queue.status();
  return std::make_pair(*std::move(queue), std::move(pipe));
}

absl::StatusOr<std::shared_ptr<NotificationQueue>> NotificationQueue::Adopt(
    UniqueFd write_end) {
  struct stat st;
  if (!write_end.valid() || ::fstat(write_end.get(), &st) != 0) {
    return ErrnoToStatus(write_end.valid() ? -errno : -EBADF, "fstat pipe");
  }
  const int flags = ::fcntl(write_end.get(), F_GETFL);
  if (flags < 0) return ErrnoToStatus(-errno, "F_GETFL on pipe");
  if (!S_ISFIFO(st.st_mode) || (flags & O_ACCMODE) == O_RDONLY) {
    return absl::InvalidArgumentError(
        "not the write end of a pipe: a notification queue needs one");
  }
  // Refused growth (pipe-user-pages limits) is survivable: a write that
  // would block then counts as a ring-full drop.
  for (int size : kPipeSizes) {
    if (::fcntl(write_end.get(), F_SETPIPE_SZ, size) >= 0) break;
  }
  // The kernel is not a writer: once the user's write ends are closed the
  // reader must see EOF between records. So the queue keeps only an O_PATH
  // handle and opens a write end of its own (a private description, so the
  // user cannot clear its O_NONBLOCK) for each post. Without /proc keep the
  // shared write end, non-blocking: records flow, but EOF never comes.
  const std::string self = "/proc/self/fd/" + std::to_string(write_end.get());
  UniqueFd handle(::open(self.c_str(), O_PATH | O_CLOEXEC));
  struct stat handle_st;
  if (handle.valid() && ::fstat(handle.get(), &handle_st) == 0 &&
      handle_st.st_ino == st.st_ino && handle_st.st_dev == st.st_dev) {
    return std::shared_ptr<NotificationQueue>(new NotificationQueue(
        std::move(handle), /*reopen=*/true, static_cast<uint64_t>(st.st_ino),
        static_cast<uint64_t>(st.st_dev)));
  }
  if (::fcntl(write_end.get(), F_SETFL,
              ::fcntl(write_end.get(), F_GETFL) | O_NONBLOCK) != 0) {
    return ErrnoToStatus(-errno, "set O_NONBLOCK on pipe write end");
  }
  return std::shared_ptr<NotificationQueue>(new NotificationQueue(
      std::move(write_end), /*reopen=*/false, static_cast<uint64_t>(st.st_ino),
      static_cast<uint64_t>(st.st_dev)));
}

NotificationQueue::NotificationQueue(UniqueFd handle, bool reopen,
                                     uint64_t inode, uint64_t device)
    : handle_(std::move(handle)),
      reopen_(reopen),
      inode_(inode),
      device_(device) {
  if (!reopen_) writer_ = UniqueFd(::fcntl(handle_.get(), F_DUPFD_CLOEXEC, 0));
}

NotificationQueue::~NotificationQueue() = default;

int NotificationQueue::SetSize(unsigned long notes) {
  absl::MutexLock lock(&mu_);
  if (capacity_ != 0) return -EBUSY;
  if (notes < 1 || notes > XEHIL_WATCH_QUEUE_MAX_NOTES) return -EINVAL;
  constexpr unsigned long kPage = XEHIL_WATCH_QUEUE_NOTES_PER_PAGE;
  capacity_ = static_cast<uint32_t>((notes + kPage - 1) / kPage * kPage);
  return 0;
}

int NotificationQueue::SetFilter(const watch_notification_filter* filter) {
  if (filter == nullptr) {
    absl::MutexLock lock(&mu_);
    filter_.reset();
    return 0;
  }
  if (filter->__reserved != 0 || filter->nr_filters == 0 ||
      filter->nr_filters > XEHIL_WATCH_FILTER_MAX) {
    return -EINVAL;
  }
  std::vector<watch_notification_type_filter> effective;
  for (uint32_t i = 0; i < filter->nr_filters; ++i) {
    const watch_notification_type_filter& entry = filter->filters[i];
    // Validated even when the type is unknown, as the kernel does.
    if ((entry.info_filter & ~entry.info_mask) != 0 ||
        (entry.info_mask & WATCH_INFO_LENGTH) != 0) {
      return -EINVAL;
    }
    if (entry.type >= kKnownWatchTypes) continue;
    effective.push_back(entry);
  }
  // Even with no known entry left the filter is set: it rejects all but meta.
  absl::MutexLock lock(&mu_);
  filter_ = std::move(effective);
  return 0;
}

bool NotificationQueue::Post(absl::Span<const uint8_t> record,
                             uint8_t watch_id) {
  if (record.size() < XEHIL_WATCH_RECORD_MIN ||
      record.size() > XEHIL_WATCH_RECORD_MAX) {
    return false;
  }
  watch_notification header = ReadHeader(record);
  if ((header.info & WATCH_INFO_LENGTH) != record.size()) return false;
  // A loss record in the carrier is a marker (see the header).
  if (header.type == WATCH_TYPE_META &&
      header.subtype == WATCH_META_LOSS_NOTIFICATION) {
    return false;
  }
  // Like the kernel, the watch's id replaces whatever id bits were there.
  header.info = (header.info & ~WATCH_INFO_ID) |
                (static_cast<uint32_t>(watch_id) << WATCH_INFO_ID__SHIFT);
  std::vector<uint8_t> bytes(record.begin(), record.end());
  std::memcpy(bytes.data(), &header, sizeof(header));

  absl::MutexLock lock(&mu_);
  if (header.type != WATCH_TYPE_META &&
      !PassesFilterLocked(header.type, header.subtype, header.info)) {
    ++stats_.filtered;
    return false;
  }
  return QueueLocked(bytes);
}

bool NotificationQueue::PostRemoval(uint8_t watch_id) {
  const std::vector<uint8_t> bytes =
      MetaRecord(WATCH_META_REMOVAL_NOTIFICATION,
                 sizeof(watch_notification) |
                     (static_cast<uint32_t>(watch_id) << WATCH_INFO_ID__SHIFT));
  absl::MutexLock lock(&mu_);
  if (!QueueLocked(bytes)) return false;
  ++stats_.removals;
  return true;
}

bool NotificationQueue::QueueLocked(absl::Span<const uint8_t> bytes) {
  if (!handle_.valid()) {
    ++stats_.write_failed;
    return false;
  }
  if (capacity_ == 0) {
    ++stats_.dropped_unsized;
    return false;
  }
  if (reopen_) {
    // Closed again when this post is done (see Adopt). ENXIO: no reader.
    const std::string self = "/proc/self/fd/" + std::to_string(handle_.get());
    writer_ = UniqueFd(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!writer_.valid()) {
      ++stats_.write_failed;
      return false;
    }
  }
  const bool queued = QueueOnWriterLocked(bytes);
  if (reopen_) writer_.reset();
  return queued;
}

bool NotificationQueue::QueueOnWriterLocked(absl::Span<const uint8_t> bytes) {
  ReclaimConsumedLocked();
  if (notes_in_use_ >= capacity_) {
    DropFullLocked();
    return false;
  }
  switch (WriteLocked(bytes, /*counts=*/true)) {
    case WriteResult::kWritten:
      ++notes_in_use_;
      ++stats_.posted;
      loss_pending_ = false;
      return true;
    case WriteResult::kWouldBlock:
      DropFullLocked();
      return false;
    case WriteResult::kFailed:
      ++stats_.write_failed;
      return false;
  }
  return false;
}

void NotificationQueue::DropFullLocked() {
  ++stats_.dropped_full;
  // One marker per run of drops, right behind the last queued record: the
  // kernel's PIPE_BUF_FLAG_LOSS on it, which CarrierReader turns into the
  // loss record that read() makes up.
  if (loss_pending_) return;
  const std::vector<uint8_t> loss =
      MetaRecord(WATCH_META_LOSS_NOTIFICATION, sizeof(watch_notification));
  if (WriteLocked(loss, /*counts=*/false) == WriteResult::kWritten) {
    loss_pending_ = true;
    ++stats_.loss_records;
  }
}

void NotificationQueue::ReclaimConsumedLocked() {
  if (in_flight_.empty() || !writer_.valid()) return;
  int queued = 0;
  if (::ioctl(writer_.get(), FIONREAD, &queued) != 0 || queued < 0) return;
  const uint64_t unread = bytes_written_ - bytes_reclaimed_;
  // Bytes the user wrote through its own write end only make this smaller.
  if (static_cast<uint64_t>(queued) >= unread) return;
  const uint64_t consumed = bytes_written_ - static_cast<uint64_t>(queued);
  // A partly read record still holds its note.
  while (!in_flight_.empty() &&
         bytes_reclaimed_ + in_flight_.front().length <= consumed) {
    bytes_reclaimed_ += in_flight_.front().length;
    if (in_flight_.front().counts) --notes_in_use_;
    in_flight_.pop_front();
  }
}

bool NotificationQueue::PassesFilterLocked(uint32_t type, uint32_t subtype,
                                           uint32_t info) const {
  if (!filter_.has_value()) return true;
  if (subtype >= 32) return false;  // only subtype_filter[0] is consulted
  for (const watch_notification_type_filter& entry : *filter_) {
    if (entry.type == type && (entry.subtype_filter[0] >> subtype & 1u) != 0 &&
        (info & entry.info_mask) == entry.info_filter) {
      return true;
    }
  }
  return false;
}

NotificationQueue::WriteResult NotificationQueue::WriteLocked(
    absl::Span<const uint8_t> bytes, bool counts) {
  int err = 0;
  const ssize_t n =
      WriteNoSigpipe(writer_.get(), bytes.data(), bytes.size(), &err);
  if (n < 0) {
    return err == EAGAIN ? WriteResult::kWouldBlock : WriteResult::kFailed;
  }
  // Records are at most 127 bytes, below PIPE_BUF, so a pipe write is all or
  // nothing; should a short write ever happen, keep the byte count right.
  bytes_written_ += static_cast<uint64_t>(n);
  const bool whole = static_cast<size_t>(n) == bytes.size();
  in_flight_.push_back(InFlight{static_cast<uint32_t>(n), counts && whole});
  return whole ? WriteResult::kWritten : WriteResult::kFailed;
}

bool NotificationQueue::Refers(int fd) const {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) return false;
  return static_cast<uint64_t>(st.st_ino) == inode_ &&
         static_cast<uint64_t>(st.st_dev) == device_;
}

uint32_t NotificationQueue::capacity_notes() const {
  absl::MutexLock lock(&mu_);
  return capacity_;
}

void NotificationQueue::CloseWriteEnd() {
  absl::MutexLock lock(&mu_);
  handle_.reset();
  writer_.reset();
}

NotificationQueue::Stats NotificationQueue::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

}  // namespace xehil::sim
