// sim::CarrierReader: the kernel's read(2) and FIONREAD on a notification
// pipe, made up over the ordinary pipe (the "carrier") that the simulated
// kernel writes records into.
//
// Which layer makes up what:
//  - NotificationQueue, the writer, puts the records into the carrier in ring
//    order. For the first drop after a queued record it writes an 8-byte loss
//    *marker* (the loss record's bytes) right behind that record: the marker
//    is the kernel's PIPE_BUF_FLAG_LOSS on the record before it. The kernel
//    never queues a loss record, so a marker is never data.
//  - CarrierReader, here, is fs/pipe.c's pipe_read(): whole records only;
//    -ENOBUFS when the next record, or a pending loss record, does not fit
//    and nothing was copied; consuming a flagged record consumes its marker
//    too and sets note_loss; the 8-byte loss record is then made up at the
//    top of the next loop iteration, so it comes in the same call only when
//    more records follow, and otherwise with the next read() (O_NONBLOCK
//    included). FIONREAD counts queued records, never markers or the pending
//    loss record. A marker leaves the carrier with its record, so poll(2) on
//    the carrier is the kernel's POLLIN (records queued) as it is.
//  - The caller says whether every writer of the pipe is gone (the
//    interposer tracks the program's write ends; in-process the simulator's
//    own write end keeps the carrier open) and blocks when asked to.
//
// It peeks with tee(2) into a private scratch pipe and consumes exactly what
// it hands out, so a record not yet returned still holds its note in the
// NotificationQueue's ring accounting, as in the kernel. Only raw system
// calls are used (no libc wrappers, no allocation after Create()), so the
// LD_PRELOAD interposer can use it inside its overrides.
//
//   std::unique_ptr<CarrierReader> reader = CarrierReader::Create(&err);
//   ssize_t n = reader->Read(carrier_fd, buf, sizeof(buf),
//                            /*writers_gone=*/false);
//   // > 0: bytes; 0: EOF; -EAGAIN: nothing yet (block or report it);
//   // -ENOBUFS; other -errno.
//
// Thread-safe; one reader per pipe (note_loss is per pipe in the kernel).
#ifndef XEHIL_SIM_CARRIER_READER_H_
#define XEHIL_SIM_CARRIER_READER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

namespace xehil::sim {

class CarrierReader {
 public:
  // The loss record's length, and the longest record the length bits allow.
  static constexpr size_t kLossRecord = 8;
  static constexpr size_t kMaxRecord = 127;

  // Makes the scratch pipe. Null with *error set to a positive errno when
  // the system refuses one.
  static std::unique_ptr<CarrierReader> Create(int* error);

  ~CarrierReader();
  CarrierReader(const CarrierReader&) = delete;
  CarrierReader& operator=(const CarrierReader&) = delete;

  // pipe_read() on the carrier's read end `fd` into `out` (`size` bytes).
  // Never blocks: where the kernel would sleep it returns -EAGAIN and the
  // caller either reports EAGAIN (O_NONBLOCK) or waits for POLLIN and calls
  // again. `writers_gone`: no write end of the notification pipe is open
  // (an empty pipe then reads 0; records that arrive later are still read).
  ssize_t Read(int fd, uint8_t* out, size_t size, bool writers_gone);

  // FIONREAD: bytes of the records queued (markers excluded), or -errno.
  int BytesQueued(int fd);

  // A loss record is owed to the next read() (the kernel's note_loss).
  bool loss_pending() const;
  // A loss record is owed or will come once the queued records are read:
  // note_loss, or a marker still in the carrier `fd`.
  bool LossOwed(int fd);

 private:
  CarrierReader(int scratch_read, int scratch_write);

  // One item at the head of the carrier as seen by the last peek.
  struct Item {
    uint32_t offset;  // in peek_
    uint32_t length;
    bool marker;
  };
  // Copies up to `limit` bytes from the head of `fd` into peek_ without
  // consuming them. Bytes peeked, 0 when the carrier is empty, or -errno.
  ssize_t PeekLocked(int fd, size_t limit);
  // The item at `offset` of peek_, if peek_ holds all of it.
  bool ItemAtLocked(size_t offset, size_t peeked, Item* item) const;

  const int scratch_read_;
  const int scratch_write_;
  // std::mutex, not absl::Mutex: this goes into libxehil_preload.so, which
  // links nothing but libc, libdl and libstdc++.
  mutable std::mutex mu_;
  bool note_loss_ = false;
  // Big enough for a whole ring: 512 records of 127 bytes plus markers.
  static constexpr size_t kPeekMax = size_t{80} * 1024;
  uint8_t peek_[kPeekMax];
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_CARRIER_READER_H_
