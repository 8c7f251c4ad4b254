// RecordStager: the kernel's whole-record read() of a notification pipe,
// emulated over an ordinary pipe that carries byte-identical records.
//
// A kernel notification pipe never hands out part of a record: read()
// returns as many whole records as fit, and fails with ENOBUFS when the next
// record does not fit and nothing was copied. An ordinary pipe would return
// any byte count, so the interposer pulls one record at a time out of the
// pipe (never more than the pipe holds, so it never blocks) and keeps a
// record that did not fit here until a read with room for it comes.
//
//   RecordStager stager;                  // one per notification pipe
//   PipeSource source(fd);                // FIONREAD + read on the pipe
//   ssize_t n = stager.Read(buf, size, source);
//   // > 0: whole records; 0: nothing queued; -ENOBUFS, -errno otherwise.
//
// Not thread-safe: the owner serialises readers of one pipe.
#ifndef XEHIL_SIM_PRELOAD_RECORD_STAGER_H_
#define XEHIL_SIM_PRELOAD_RECORD_STAGER_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace xehil::preload {

// Where records come from: the ordinary pipe behind a notification pipe.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Bytes queued right now (FIONREAD), or -errno.
  virtual ssize_t Available() = 0;
  // Reads up to `size` bytes, never more than Available() said; the count
  // or -errno.
  virtual ssize_t Read(uint8_t* out, size_t size) = 0;
};

class RecordStager {
 public:
  // The largest record the length bits can describe (info & 0x7f).
  static constexpr size_t kMaxRecord = 127;
  static constexpr size_t kHeader = 8;

  // Copies whole records into `out` (capacity `size`), staged record first.
  // Returns the bytes copied (> 0), 0 when no complete record is queued,
  // -ENOBUFS when the next record is longer than `size`, or the source's
  // -errno if it failed before anything was copied. Never blocks on its own.
  ssize_t Read(uint8_t* out, size_t size, RecordSource& source);

  // Bytes held here (part of FIONREAD).
  size_t staged() const { return staged_; }
  // True when a whole record waits here (the pipe may be empty).
  bool HasWholeRecord() const;

 private:
  // Moves bytes of the next record from `source` into the stage until it is
  // complete or the source has no more. 1: whole record staged, 0: not yet,
  // -errno on a source failure.
  int Fill(RecordSource& source);
  // Length of the staged record once its header is in: the info length
  // bits; a (malformed) length below the header counts as a bare header, so
  // a bad record can never stall the stream.
  size_t StagedRecordLength() const;

  uint8_t stage_[kMaxRecord];
  size_t staged_ = 0;
};

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_RECORD_STAGER_H_
