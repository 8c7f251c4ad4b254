#include "sim/preload/record_stager.h"

#include <cerrno>
#include <cstring>

namespace xehil::preload {

size_t RecordStager::StagedRecordLength() const {
  uint32_t info = 0;
  std::memcpy(&info, stage_ + 4, sizeof(info));  // watch_notification.info
  const size_t length = info & 0x7f;
  return length < kHeader ? kHeader : length;
}

bool RecordStager::HasWholeRecord() const {
  return staged_ >= kHeader && staged_ >= StagedRecordLength();
}

int RecordStager::Fill(RecordSource& source) {
  if (HasWholeRecord()) return 1;
  ssize_t available = source.Available();
  if (available < 0) return static_cast<int>(available);
  while (available > 0) {
    const size_t want =
        staged_ < kHeader ? kHeader - staged_ : StagedRecordLength() - staged_;
    const size_t take =
        want < static_cast<size_t>(available) ? want : available;
    ssize_t got = source.Read(stage_ + staged_, take);
    if (got < 0) return static_cast<int>(got);
    if (got == 0) break;  // the writer went away under us
    staged_ += got;
    available -= got;
    if (HasWholeRecord()) return 1;
  }
  return 0;
}

ssize_t RecordStager::Read(uint8_t* out, size_t size, RecordSource& source) {
  size_t copied = 0;
  for (;;) {
    int filled = Fill(source);
    if (filled < 0) {
      if (copied == 0) return filled;
      break;
    }
    if (filled == 0) break;
    const size_t length = StagedRecordLength();
    if (length > size - copied) {
      if (copied == 0) return -ENOBUFS;
      break;
    }
    std::memcpy(out + copied, stage_, length);
    copied += length;
    // A record shorter than its stage (malformed length) leaves the rest of
    // the bytes as the start of the next record.
    std::memmove(stage_, stage_ + length, staged_ - length);
    staged_ -= length;
  }
  return static_cast<ssize_t>(copied);
}

}  // namespace xehil::preload
