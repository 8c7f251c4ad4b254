#include "sim/carrier_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace xehil::sim {
namespace {

// Raw system calls: the interposer overrides read, ioctl and pipe2, and must
// never reach its own overrides from here.
long Sys(long number, long a = 0, long b = 0, long c = 0, long d = 0) {
  long rc;
  do {
    rc = ::syscall(number, a, b, c, d);
  } while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : rc;
}

uint32_t HeaderInfo(const uint8_t* header) {
  uint32_t info;
  std::memcpy(&info, header + 4, sizeof(info));  // watch_notification.info
  return info;
}

// type:24 subtype:8 in the first word; META is 0, LOSS is subtype 1.
bool IsLossMarker(const uint8_t* header) {
  uint32_t word;
  std::memcpy(&word, header, sizeof(word));
  return (word & 0x00ffffffu) == 0 && (word >> 24) == 1 &&
         (HeaderInfo(header) & 0x7f) == CarrierReader::kLossRecord;
}

void PutLossRecord(uint8_t* out) {
  const uint32_t words[2] = {uint32_t{1} << 24,
                             static_cast<uint32_t>(CarrierReader::kLossRecord)};
  std::memcpy(out, words, sizeof(words));
}

// Planned consumption of the carrier's head, done by one readv().
class Plan {
 public:
  // Carrier bytes into `to` (a record for the caller) or, with null, thrown
  // away (a marker).
  void Add(uint8_t* to, size_t length) {
    uint8_t* base = to != nullptr ? to : trash_;
    iovec& last = iov_[count_ > 0 ? count_ - 1 : 0];
    if (count_ > 0 && to != nullptr &&
        static_cast<uint8_t*>(last.iov_base) + last.iov_len == to) {
      last.iov_len += length;  // contiguous records: one segment
    } else {
      iov_[count_++] = iovec{base, length};
    }
    bytes_ += length;
  }
  // Room for one more turn of the read loop (at most three segments).
  bool full() const { return count_ > kMaxSegments - 3; }
  // 0, or -errno (-EIO if the carrier held less than was peeked: someone
  // else read it).
  long Commit(int fd) {
    if (count_ == 0) return 0;
    const long n = Sys(SYS_readv, fd, reinterpret_cast<long>(iov_), count_);
    const size_t expected = bytes_;
    count_ = 0;
    bytes_ = 0;
    if (n < 0) return n;
    return static_cast<size_t>(n) == expected ? 0 : -EIO;
  }

 private:
  static constexpr int kMaxSegments = 64;
  iovec iov_[kMaxSegments];
  int count_ = 0;
  size_t bytes_ = 0;
  uint8_t trash_[CarrierReader::kLossRecord];
};

}  // namespace

std::unique_ptr<CarrierReader> CarrierReader::Create(int* error) {
  int fds[2];
  const long rc =
      Sys(SYS_pipe2, reinterpret_cast<long>(fds), O_CLOEXEC | O_NONBLOCK);
  if (rc < 0) {
    *error = static_cast<int>(-rc);
    return nullptr;
  }
  // The scratch pipe must hold a whole peek; refused growth means smaller
  // peeks (a default pipe still holds a full 32-note ring).
  Sys(SYS_fcntl, fds[1], F_SETPIPE_SZ, static_cast<long>(kPeekMax));
  return std::unique_ptr<CarrierReader>(new CarrierReader(fds[0], fds[1]));
}

CarrierReader::CarrierReader(int scratch_read, int scratch_write)
    : scratch_read_(scratch_read), scratch_write_(scratch_write) {}

CarrierReader::~CarrierReader() {
  Sys(SYS_close, scratch_read_);
  Sys(SYS_close, scratch_write_);
}

bool CarrierReader::loss_pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return note_loss_;
}

ssize_t CarrierReader::PeekLocked(int fd, size_t limit) {
  limit = std::min(limit, kPeekMax);
  const long teed = Sys(SYS_tee, fd, scratch_write_, static_cast<long>(limit),
                        SPLICE_F_NONBLOCK);
  if (teed == -EAGAIN || teed == 0) {
    return 0;  // empty (with or without writers)
  }
  if (teed < 0) return teed;
  size_t got = 0;
  while (got < static_cast<size_t>(teed)) {
    const long n =
        Sys(SYS_read, scratch_read_, reinterpret_cast<long>(peek_ + got),
            teed - static_cast<long>(got));
    if (n <= 0) return n < 0 ? n : -EIO;
    got += static_cast<size_t>(n);
  }
  return teed;
}

bool CarrierReader::ItemAtLocked(size_t offset, size_t peeked,
                                 Item* item) const {
  if (offset + kLossRecord > peeked) return false;
  const uint8_t* header = peek_ + offset;
  // A (malformed) length below the header counts as a bare header, so a bad
  // record can never stall the stream.
  const uint32_t length = std::max<uint32_t>(HeaderInfo(header) & 0x7f, 8);
  *item = Item{static_cast<uint32_t>(offset), length, IsLossMarker(header)};
  return true;
}

ssize_t CarrierReader::Read(int fd, uint8_t* out, size_t size,
                            bool writers_gone) {
  if (size == 0) return 0;  // the kernel's null read succeeds first of all
  std::lock_guard<std::mutex> lock(mu_);
  // Headers of everything that could fit, a marker and the next header.
  const ssize_t peeked = PeekLocked(fd, size + kMaxRecord + kLossRecord);
  if (peeked < 0) return peeked;
  // Only an empty pipe can be read into nothing (EAGAIN or EOF below).
  if (out == nullptr && (peeked > 0 || note_loss_)) return -EFAULT;
  Plan plan;
  size_t copied = 0;  // bytes of `out` handed out (once the plan commits)
  size_t pos = 0;     // next unplanned byte of the peek
  ssize_t result = 0;
  bool record_last = false;  // the last planned item was a record
  // One turn per record, as pipe_read()'s loop.
  for (;;) {
    if (plan.full()) {
      if (long rc = plan.Commit(fd); rc < 0) return rc;
    }
    if (note_loss_) {
      if (size - copied < kLossRecord) {
        if (copied == 0) result = -ENOBUFS;
        break;
      }
      PutLossRecord(out + copied);
      copied += kLossRecord;
      note_loss_ = false;
    }
    Item item;
    if (!ItemAtLocked(pos, static_cast<size_t>(peeked), &item)) break;
    if (item.marker) {
      // Only behind a record consumed by an earlier call that raced with
      // the drop: the flag is already ours.
      plan.Add(nullptr, kLossRecord);
      pos += kLossRecord;
      note_loss_ = true;
      record_last = false;
      continue;
    }
    if (item.length > size - copied) {
      if (copied == 0) result = -ENOBUFS;
      break;
    }
    plan.Add(out + copied, item.length);
    copied += item.length;
    pos += item.length;
    record_last = true;
    Item next;
    const bool more = ItemAtLocked(pos, static_cast<size_t>(peeked), &next);
    if (more && next.marker) {
      // Consuming a flagged record sets note_loss (pipe_update_tail).
      plan.Add(nullptr, kLossRecord);
      pos += kLossRecord;
      note_loss_ = true;
      record_last = false;
    }
    if (size == copied) break;
    if (!ItemAtLocked(pos, static_cast<size_t>(peeked), &next)) break;
  }
  if (long rc = plan.Commit(fd); rc < 0) return rc;
  // A drop that raced with this read may have put a marker behind the last
  // record handed out: that record was flagged before it was consumed.
  if (record_last && pos == static_cast<size_t>(peeked)) {
    int queued = 0;
    if (Sys(SYS_ioctl, fd, FIONREAD, reinterpret_cast<long>(&queued)) == 0 &&
        queued > 0 && PeekLocked(fd, kLossRecord) == kLossRecord &&
        IsLossMarker(peek_)) {
      plan.Add(nullptr, kLossRecord);
      if (plan.Commit(fd) == 0) note_loss_ = true;
    }
  }
  if (result < 0) return result;
  if (copied > 0) return static_cast<ssize_t>(copied);
  return writers_gone ? 0 : -EAGAIN;
}

bool CarrierReader::LossOwed(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  if (note_loss_) return true;
  const ssize_t peeked = PeekLocked(fd, kPeekMax);
  Item item;
  for (size_t pos = 0;
       peeked > 0 && ItemAtLocked(pos, static_cast<size_t>(peeked), &item);
       pos += item.length) {
    if (item.marker) return true;
  }
  return false;
}

int CarrierReader::BytesQueued(int fd) {
  int queued = 0;
  if (long rc = Sys(SYS_ioctl, fd, FIONREAD, reinterpret_cast<long>(&queued));
      rc < 0) {
    return static_cast<int>(rc);
  }
  if (queued <= 0) return queued;
  std::lock_guard<std::mutex> lock(mu_);
  const ssize_t peeked = PeekLocked(fd, static_cast<size_t>(queued));
  if (peeked < 0) return static_cast<int>(peeked);
  int markers = 0;
  Item item;
  for (size_t pos = 0; ItemAtLocked(pos, static_cast<size_t>(peeked), &item);
       pos += item.length) {
    if (item.marker) markers += static_cast<int>(kLossRecord);
  }
  return queued - markers;
}

}  // namespace xehil::sim
