// sim::NotificationQueue: the kernel side of one notification pipe, carried
// over an ordinary pipe (the carrier). Userspace cannot write records into a
// real notification pipe (EXDEV), so the simulator writes byte-identical
// records into a plain pipe and enforces the kernel's posting rules itself:
//  - ring size set once, in notes (1..512, else -EINVAL; a second call
//    -EBUSY), rounded up to whole pages of 32 notes; every record is dropped
//    until the size is set;
//  - each record takes one note until the reader has consumed it (measured
//    with FIONREAD on the pipe), whatever its length;
//  - a filter (IOC_WATCH_QUEUE_SET_FILTER rules) applies to all but meta
//    records (removal, loss), which bypass it;
//  - the watch id is put into info bits 8..15 at post time (replacing what
//    was there, as the kernel does);
//  - when the ring is full the record is dropped and the kernel flags the
//    last queued record (PIPE_BUF_FLAG_LOSS). Here the flag is an 8-byte
//    loss *marker* written right behind that record, once per run of drops.
//    The kernel makes the loss record up in read(), after the flagged record
//    is consumed, and never queues one: CarrierReader (carrier_reader.h)
//    turns markers into exactly that, so carriers must be read through it
//    (the pipe this makes carries a reader; see NotificationPipe::reader).
//
// The kernel is not a writer: the queue holds only an O_PATH handle of the
// carrier and opens a write end of its own (a private open file description,
// so a client that clears O_NONBLOCK on its write end cannot make a post
// block) for the length of each post. Once every user write end is closed,
// the reader sees EOF between records, and a later record still arrives
// (POLLIN|POLLHUP, then EOF again), as uapi.md measured on the kernel.
//
// Thread-safe: posts come from the simulator's worker and ioctl callers.
//
//   auto created = NotificationQueue::Create();
//   auto& [queue, pipe] = *created;
//   queue->SetSize(32);
//   queue->Post(vm_err_bytes, /*watch_id=*/1);
//   ReadNotificationPipe(pipe, buf, sizeof(buf));  // the reader sees it
#ifndef XEHIL_SIM_NOTIFICATION_QUEUE_H_
#define XEHIL_SIM_NOTIFICATION_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/backend/kernel_backend.h"
#include "core/base/unique_fd.h"
#include "core/uapi/watch_uapi.h"

namespace xehil::sim {

class NotificationQueue {
 public:
  struct Stats {
    uint64_t posted = 0;        // records written to the pipe (loss excluded)
    uint64_t dropped_full = 0;  // dropped because the ring was full
    uint64_t dropped_unsized = 0;  // dropped because SET_SIZE was never called
    uint64_t filtered = 0;         // rejected by the filter
    uint64_t loss_records = 0;     // loss markers written (runs of drops)
    uint64_t removals = 0;         // removal records written
    // Lost to the pipe itself: write end closed, reader gone, write error.
    uint64_t write_failed = 0;
  };

  // Makes the pipe. The returned NotificationPipe is the user's (both ends
  // and the reader that makes up the kernel's read semantics); the queue
  // can post until CloseWriteEnd() or destruction.
  static absl::StatusOr<
      std::pair<std::shared_ptr<NotificationQueue>, NotificationPipe>>
  Create();

  // A queue over an existing pipe's write end, e.g. one another process
  // passed by SCM_RIGHTS (xehil-simd): a private non-blocking write end for
  // each post and the pipe size of Create(), identified by the pipe's inode and
  // device like Create()'s, so Refers() matches every descriptor of that pipe.
  // The queue owns `write_end`. InvalidArgument if it is not a pipe opened for
  // writing. Whoever reads the pipe must read it through a CarrierReader.
  static absl::StatusOr<std::shared_ptr<NotificationQueue>> Adopt(
      UniqueFd write_end);

  ~NotificationQueue();
  NotificationQueue(const NotificationQueue&) = delete;
  NotificationQueue& operator=(const NotificationQueue&) = delete;

  // IOC_WATCH_QUEUE_SET_SIZE: 0, -EINVAL (0 or > 512 notes) or -EBUSY.
  int SetSize(unsigned long notes);

  // IOC_WATCH_QUEUE_SET_FILTER: `filter` as the ioctl receives it (header plus
  // nr_filters entries), or nullptr to remove filtering. 0 or -EINVAL.
  int SetFilter(const watch_notification_filter* filter);

  // Posts one record. `record` starts with a watch_notification whose length
  // bits equal record.size() (8..127, else false and nothing is written) and
  // that is not a loss record (the kernel never queues one);
  // `watch_id` goes into info bits 8..15 before filtering. Returns true if
  // the record was queued (false: invalid, filtered, unsized, ring full, or
  // pipe gone).
  bool Post(absl::Span<const uint8_t> record, uint8_t watch_id);

  // Posts the 8-byte removal record for `watch_id` (bypasses the filter).
  bool PostRemoval(uint8_t watch_id);

  // True if `fd` (either end) refers to this queue's pipe.
  bool Refers(int fd) const;

  // Capacity in records once sized (0 before).
  uint32_t capacity_notes() const;

  // Stops posting (every later post counts as write_failed): the queue's
  // last watch went away.
  void CloseWriteEnd();

  Stats stats() const;

 private:
  // `handle`: an O_PATH handle of the pipe when `reopen`, else the write end
  // kept for every post (no /proc).
  NotificationQueue(UniqueFd handle, bool reopen, uint64_t inode,
                    uint64_t device);
  // QueueLocked once writer_ is open. Requires mu_.
  bool QueueOnWriterLocked(absl::Span<const uint8_t> bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the reader has consumed since the last call stop counting
  // against the ring. Requires mu_.
  void ReclaimConsumedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool PassesFilterLocked(uint32_t type, uint32_t subtype, uint32_t info) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues one record (id and filter already applied) against the ring:
  // unsized and full-ring drops, loss record, stats. Requires mu_.
  bool QueueLocked(absl::Span<const uint8_t> bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts a ring-full drop and writes the loss record for the first drop
  // since the last queued record. Requires mu_.
  void DropFullLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  enum class WriteResult { kWritten, kWouldBlock, kFailed };
  // Writes one record without raising SIGPIPE and tracks it in in_flight_
  // (`counts`: it takes a note). Requires mu_.
  WriteResult WriteLocked(absl::Span<const uint8_t> bytes, bool counts)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  UniqueFd handle_ ABSL_GUARDED_BY(mu_);
  const bool reopen_;
  UniqueFd writer_
      ABSL_GUARDED_BY(mu_);  // during a post (always, without reopen_)
  const uint64_t inode_;
  const uint64_t device_;
  uint32_t capacity_ ABSL_GUARDED_BY(mu_) = 0;  // notes; 0 until SetSize
  std::optional<std::vector<watch_notification_type_filter>> filter_
      ABSL_GUARDED_BY(mu_);
  // Lengths of records in the pipe not yet fully consumed, oldest first;
  // `counts` is false for loss records, which take no note.
  struct InFlight {
    uint32_t length;
    bool counts;
  };
  std::deque<InFlight> in_flight_ ABSL_GUARDED_BY(mu_);
  uint32_t notes_in_use_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t bytes_reclaimed_ ABSL_GUARDED_BY(mu_) = 0;
  bool loss_pending_ ABSL_GUARDED_BY(mu_) =
      false;  // a loss record follows the last queued record
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_NOTIFICATION_QUEUE_H_
