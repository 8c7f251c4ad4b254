// RecordDecoder: turns the bytes read from a notification pipe into typed
// WatchEvents, plus a small encoder producing the same records.
//
// A real notification pipe only ever returns whole records, but the simulator
// carries them over ordinary pipes, which may split a record across reads; the
// decoder therefore carries an incomplete record (at most 126 bytes) over to
// the next Feed. Bad input is counted, never trusted: a header whose length is
// below 8 is skipped as exactly 8 bytes and decoding resynchronises after it,
// and nothing past the bytes given is ever read.
//
//   RecordDecoder decoder;
//   std::vector<WatchEvent> events;
//   ssize_t n = read(fd, buf, sizeof(buf));
//   decoder.Feed(absl::MakeConstSpan(buf, n), &events);
//   for (const WatchEvent& e : events) Handle(e);
//
// Decoding rules (see /work/shared/design/uapi.md):
//   META/REMOVAL: 8 bytes -> Removed without id; >= 16 -> Removed with the
//     u64 id (a longer tail is ignored); 9..15 -> malformed.
//   META/LOSS: -> Lost.
//   DRM_XE_NOTIFY/VM_ERR: >= 24 bytes -> VmError (a longer tail is ignored for
//     forward compatibility); shorter -> malformed.
//   any other well-formed record -> Unknown{type, subtype, watch_id, length}.
#ifndef XEHIL_CORE_WATCH_RECORD_DECODER_H_
#define XEHIL_CORE_WATCH_RECORD_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "core/watch/events.h"

namespace xehil {

class RecordDecoder {
 public:
  // Record lengths come from a 7-bit field, header included.
  static constexpr size_t kHeaderSize = 8;
  static constexpr size_t kMaxRecordSize = 127;

  struct Stats {
    uint64_t records = 0;    // well-formed records decoded into events
    uint64_t malformed = 0;  // records counted as malformed and skipped
    uint64_t unknown = 0;    // well-formed records decoded as Unknown
    uint64_t bytes = 0;      // bytes fed
  };

  RecordDecoder() = default;
  RecordDecoder(const RecordDecoder&) = delete;
  RecordDecoder& operator=(const RecordDecoder&) = delete;

  // Decodes every complete record in (carried bytes + `bytes`), appending one
  // event per well-formed record to `out` in stream order. A trailing partial
  // record is kept for the next call. Not thread-safe.
  void Feed(absl::Span<const uint8_t> bytes, std::vector<WatchEvent>* out);

  Stats stats() const { return stats_; }

  // Bytes of an incomplete record waiting for the next Feed (0..126).
  size_t carried() const { return carried_; }

 private:
  // Decodes one complete record of `len` bytes (8..127) at `p`.
  void DecodeRecord(const uint8_t* p, size_t len, std::vector<WatchEvent>* out);

  uint8_t carry_[kMaxRecordSize] = {};
  size_t carried_ = 0;
  Stats stats_;
};

// Encoders for tests and tools. Each returns the record exactly as the kernel
// lays it out (native byte order, same struct layout as core/uapi), so the
// bytes are identical to what a real notification pipe returns.

// A 24-byte DRM_XE_NOTIFY/VM_ERR record.
std::vector<uint8_t> EncodeVmErr(uint32_t vm_id, int32_t error,
                                 uint64_t timestamp_ns, uint8_t watch_id = 0);
// The 8-byte META/LOSS record that read() inserts after dropped records.
std::vector<uint8_t> EncodeLoss();
// The 8-byte META/REMOVAL record posted when the watched object goes away.
std::vector<uint8_t> EncodeRemoval(uint8_t watch_id);
// The 16-byte META/REMOVAL form carrying a 64-bit object id.
std::vector<uint8_t> EncodeRemoval(uint8_t watch_id, uint64_t id);

}  // namespace xehil

#endif  // XEHIL_CORE_WATCH_RECORD_DECODER_H_
