#include "core/watch/record_decoder.h"

#include <algorithm>
#include <cstring>

#include "core/uapi/watch_uapi.h"
#include "core/uapi/xe_uapi.h"

namespace xehil {
namespace {

struct Header {
  uint32_t type;
  uint32_t subtype;
  uint32_t length;
  uint8_t watch_id;
};

// Reads the 8-byte header at `p` without assuming alignment. Word 0 is the
// `type:24, subtype:8` bitfield pair, i.e. type | subtype << 24.
Header ReadHeader(const uint8_t* p) {
  uint32_t word0;
  uint32_t info;
  std::memcpy(&word0, p, sizeof(word0));
  std::memcpy(&info, p + sizeof(word0), sizeof(info));
  return Header{
      word0 & 0x00ffffffu, word0 >> 24,
      (info & WATCH_INFO_LENGTH) >> WATCH_INFO_LENGTH__SHIFT,
      static_cast<uint8_t>((info & WATCH_INFO_ID) >> WATCH_INFO_ID__SHIFT)};
}

template <typename T>
std::vector<uint8_t> Bytes(const T& record) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &record, sizeof(T));
  return out;
}

// memcpy that tolerates an empty source (an empty Span may have no data()).
void CopyBytes(uint8_t* dst, const uint8_t* src, size_t n) {
  if (n > 0) std::memcpy(dst, src, n);
}

uint32_t Info(size_t length, uint8_t watch_id) {
  return static_cast<uint32_t>(length) |
         (static_cast<uint32_t>(watch_id) << WATCH_INFO_ID__SHIFT);
}

}  // namespace

void RecordDecoder::Feed(absl::Span<const uint8_t> bytes,
                         std::vector<WatchEvent>* out) {
  stats_.bytes += bytes.size();
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();

  // First complete the record carried over from the previous call, if any.
  if (carried_ > 0) {
    if (carried_ < kHeaderSize) {
      size_t take = std::min(kHeaderSize - carried_, left);
      CopyBytes(carry_ + carried_, p, take);
      carried_ += take;
      p += take;
      left -= take;
      if (carried_ < kHeaderSize) return;
    }
    size_t len = ReadHeader(carry_).length;
    if (len < kHeaderSize) {
      ++stats_.malformed;  // the carry holds exactly the 8-byte header
      carried_ = 0;
    } else {
      size_t take = std::min(len - carried_, left);
      CopyBytes(carry_ + carried_, p, take);
      carried_ += take;
      p += take;
      left -= take;
      if (carried_ < len) return;
      DecodeRecord(carry_, len, out);
      carried_ = 0;
    }
  }

  while (left >= kHeaderSize) {
    size_t len = ReadHeader(p).length;
    if (len < kHeaderSize) {
      // A length that cannot be right: skip the header only and resync.
      ++stats_.malformed;
      p += kHeaderSize;
      left -= kHeaderSize;
      continue;
    }
    if (len > left) break;
    DecodeRecord(p, len, out);
    p += len;
    left -= len;
  }

  // `left` < 8 or less than one record (<= 126 bytes): keep it for next time.
  CopyBytes(carry_, p, left);
  carried_ = left;
}

void RecordDecoder::DecodeRecord(const uint8_t* p, size_t len,
                                 std::vector<WatchEvent>* out) {
  const Header h = ReadHeader(p);
  if (h.type == WATCH_TYPE_META &&
      h.subtype == WATCH_META_REMOVAL_NOTIFICATION) {
    Removed removed;
    removed.watch_id = h.watch_id;
    if (len >= sizeof(watch_notification_removal)) {
      uint64_t id;
      std::memcpy(&id, p + offsetof(watch_notification_removal, id),
                  sizeof(id));
      removed.id = id;
    } else if (len != sizeof(watch_notification)) {
      ++stats_.malformed;  // between the 8- and 16-byte forms
      return;
    }
    ++stats_.records;
    out->push_back(removed);
    return;
  }
  if (h.type == WATCH_TYPE_META && h.subtype == WATCH_META_LOSS_NOTIFICATION) {
    ++stats_.records;
    out->push_back(Lost{});
    return;
  }
  if (h.type == WATCH_TYPE_DRM_XE_NOTIFY &&
      h.subtype == DRM_XE_WATCH_EVENT_VM_ERR) {
    if (len < sizeof(drm_xe_watch_notification_vm_err)) {
      ++stats_.malformed;
      return;
    }
    VmError e;
    std::memcpy(&e.vm_id, p + offsetof(drm_xe_watch_notification_vm_err, vm_id),
                sizeof(e.vm_id));
    std::memcpy(&e.error,
                p + offsetof(drm_xe_watch_notification_vm_err, error_code),
                sizeof(e.error));
    std::memcpy(&e.timestamp_ns,
                p + offsetof(drm_xe_watch_notification_vm_err, timestamp_ns),
                sizeof(e.timestamp_ns));
    e.watch_id = h.watch_id;
    ++stats_.records;
    out->push_back(e);
    return;
  }
  ++stats_.records;
  ++stats_.unknown;
  out->push_back(Unknown{h.type, h.subtype, h.watch_id, h.length});
}

std::vector<uint8_t> EncodeVmErr(uint32_t vm_id, int32_t error,
                                 uint64_t timestamp_ns, uint8_t watch_id) {
  drm_xe_watch_notification_vm_err r{};
  r.base.type = WATCH_TYPE_DRM_XE_NOTIFY;
  r.base.subtype = DRM_XE_WATCH_EVENT_VM_ERR;
  r.base.info = Info(sizeof(r), watch_id);
  r.vm_id = vm_id;
  r.error_code = error;
  r.timestamp_ns = timestamp_ns;
  return Bytes(r);
}

std::vector<uint8_t> EncodeLoss() {
  watch_notification r{};
  r.type = WATCH_TYPE_META;
  r.subtype = WATCH_META_LOSS_NOTIFICATION;
  r.info = Info(sizeof(r), 0);
  return Bytes(r);
}

std::vector<uint8_t> EncodeRemoval(uint8_t watch_id) {
  watch_notification r{};
  r.type = WATCH_TYPE_META;
  r.subtype = WATCH_META_REMOVAL_NOTIFICATION;
  r.info = Info(sizeof(r), watch_id);
  return Bytes(r);
}

std::vector<uint8_t> EncodeRemoval(uint8_t watch_id, uint64_t id) {
  watch_notification_removal r{};
  r.watch.type = WATCH_TYPE_META;
  r.watch.subtype = WATCH_META_REMOVAL_NOTIFICATION;
  r.watch.info = Info(sizeof(r), watch_id);
  r.id = id;
  return Bytes(r);
}

}  // namespace xehil
