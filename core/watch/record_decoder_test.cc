#include "core/watch/record_decoder.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "core/uapi/watch_uapi.h"
#include "core/uapi/xe_uapi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using Bytes = std::vector<uint8_t>;

// An 8-byte header with any type, subtype and info, for hand-made records.
Bytes Header(uint32_t type, uint32_t subtype, uint32_t info) {
  uint32_t word0 = (type & 0x00ffffffu) | (subtype << 24);
  Bytes out(8);
  std::memcpy(out.data(), &word0, 4);
  std::memcpy(out.data() + 4, &info, 4);
  return out;
}

// A record of `len` bytes (header + zero tail), with info length `len`.
Bytes Record(uint32_t type, uint32_t subtype, uint32_t len, uint8_t id = 0) {
  Bytes out = Header(type, subtype, len | (uint32_t{id} << 8));
  out.resize(len < 8 ? 8 : len, 0);
  return out;
}

Bytes Concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Feeds `bytes` from an exactly-sized heap copy, so ASan reports any read
// past the end.
void FeedExact(RecordDecoder* d, const Bytes& bytes,
               std::vector<WatchEvent>* out) {
  std::unique_ptr<uint8_t[]> copy(new uint8_t[bytes.size()]);
  if (!bytes.empty()) std::memcpy(copy.get(), bytes.data(), bytes.size());
  d->Feed(absl::MakeConstSpan(copy.get(), bytes.size()), out);
}

std::vector<WatchEvent> DecodeAll(const Bytes& bytes,
                                  RecordDecoder::Stats* stats = nullptr) {
  RecordDecoder d;
  std::vector<WatchEvent> out;
  FeedExact(&d, bytes, &out);
  if (stats != nullptr) *stats = d.stats();
  return out;
}

TEST(RecordEncoder, MatchesTheKernelStructLayout) {
  Bytes vm = EncodeVmErr(3, -ENOMEM, 0x1122334455667788ull, 9);
  ASSERT_EQ(vm.size(), sizeof(drm_xe_watch_notification_vm_err));
  drm_xe_watch_notification_vm_err r;
  std::memcpy(&r, vm.data(), sizeof(r));
  EXPECT_EQ(r.base.type, uint32_t{WATCH_TYPE_DRM_XE_NOTIFY});
  EXPECT_EQ(r.base.subtype, uint32_t{DRM_XE_WATCH_EVENT_VM_ERR});
  EXPECT_EQ(r.base.info, 24u | (9u << 8));
  EXPECT_EQ(r.vm_id, 3u);
  EXPECT_EQ(r.error_code, -ENOMEM);
  EXPECT_EQ(r.timestamp_ns, 0x1122334455667788ull);

  // The loss record read() inserts: {type 0, subtype 1, info 8}.
  EXPECT_EQ(EncodeLoss(), Header(0, 1, 8));
  EXPECT_EQ(EncodeRemoval(5), Header(0, 0, 8 | (5 << 8)));
  Bytes removal = EncodeRemoval(5, 77);
  ASSERT_EQ(removal.size(), 16u);
  EXPECT_EQ(Bytes(removal.begin(), removal.begin() + 8),
            Header(0, 0, 16 | (5 << 8)));
}

TEST(RecordDecoder, DecodesVmError) {
  RecordDecoder::Stats stats;
  auto events = DecodeAll(EncodeVmErr(3, -ENOSPC, 123456, 2), &stats);
  ASSERT_EQ(events.size(), 1u);
  const VmError* e = std::get_if<VmError>(&events[0]);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->vm_id, 3u);
  EXPECT_EQ(e->error, -ENOSPC);
  EXPECT_EQ(e->timestamp_ns, 123456u);
  EXPECT_EQ(e->watch_id, 2);
  EXPECT_EQ(stats.records, 1u);
  EXPECT_EQ(stats.malformed, 0u);
  EXPECT_EQ(stats.bytes, 24u);
}

TEST(RecordDecoder, DecodesSeveralRecordsInOneBuffer) {
  auto events = DecodeAll(
      Concat({EncodeVmErr(1, -ENOMEM, 10), EncodeLoss(), EncodeRemoval(4),
              EncodeVmErr(2, -ENOSPC, 20), EncodeRemoval(6, 99)}));
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(std::get<VmError>(events[0]).vm_id, 1u);
  EXPECT_TRUE(std::holds_alternative<Lost>(events[1]));
  EXPECT_EQ(std::get<Removed>(events[2]).watch_id, 4);
  EXPECT_FALSE(std::get<Removed>(events[2]).id.has_value());
  EXPECT_EQ(std::get<VmError>(events[3]).vm_id, 2u);
  EXPECT_EQ(std::get<Removed>(events[4]).id, 99u);
}

TEST(RecordDecoder, DecodesSixteenByteRemovalWithId) {
  auto events = DecodeAll(EncodeRemoval(200, 0xdeadbeefcafeull));
  ASSERT_EQ(events.size(), 1u);
  const Removed& r = std::get<Removed>(events[0]);
  EXPECT_EQ(r.watch_id, 200);
  EXPECT_EQ(r.id, 0xdeadbeefcafeull);
}

TEST(RecordDecoder, RemovalBetweenTheTwoFormsIsMalformed) {
  RecordDecoder::Stats stats;
  auto events = DecodeAll(Concat({Record(0, 0, 12), EncodeLoss()}), &stats);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Lost>(events[0]));
  EXPECT_EQ(stats.malformed, 1u);
}

TEST(RecordDecoder, DecodesLossRecord) {
  RecordDecoder::Stats stats;
  auto events = DecodeAll(EncodeLoss(), &stats);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Lost>(events[0]));
  EXPECT_EQ(stats.records, 1u);
}

TEST(RecordDecoder, SplitRecordsDecodeAtEveryByteBoundary) {
  const Bytes stream =
      Concat({EncodeVmErr(1, -ENOMEM, 111, 1), EncodeLoss(),
              EncodeRemoval(2, 5), Record(7, 3, 127, 4), EncodeRemoval(3),
              EncodeVmErr(2, -ENOSPC, 222, 1)});
  const std::vector<WatchEvent> whole = DecodeAll(stream);
  ASSERT_EQ(whole.size(), 6u);
  for (size_t a = 0; a <= stream.size(); ++a) {
    for (size_t b = a; b <= stream.size(); ++b) {
      RecordDecoder d;
      std::vector<WatchEvent> out;
      FeedExact(&d, Bytes(stream.begin(), stream.begin() + a), &out);
      FeedExact(&d, Bytes(stream.begin() + a, stream.begin() + b), &out);
      FeedExact(&d, Bytes(stream.begin() + b, stream.end()), &out);
      ASSERT_EQ(out.size(), whole.size()) << "split at " << a << "," << b;
      for (size_t i = 0; i < out.size(); ++i) {
        ASSERT_EQ(DescribeEvent(out[i]), DescribeEvent(whole[i]))
            << "split at " << a << "," << b << " event " << i;
      }
      EXPECT_EQ(d.carried(), 0u);
      EXPECT_EQ(d.stats().malformed, 0u);
      EXPECT_EQ(d.stats().bytes, stream.size());
    }
  }
}

TEST(RecordDecoder, DecodesAByteAtATime) {
  const Bytes stream = Concat({EncodeVmErr(1, -ENOMEM, 1), Record(0, 0, 3),
                               EncodeVmErr(2, -ENOMEM, 2)});
  RecordDecoder d;
  std::vector<WatchEvent> out;
  for (uint8_t byte : stream) FeedExact(&d, Bytes{byte}, &out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::get<VmError>(out[1]).vm_id, 2u);
  EXPECT_EQ(d.stats().malformed, 1u);
}

TEST(RecordDecoder, CarriesAPartialRecordUntilItCompletes) {
  const Bytes rec = Record(7, 0, 127);
  RecordDecoder d;
  std::vector<WatchEvent> out;
  FeedExact(&d, Bytes(rec.begin(), rec.end() - 1), &out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.carried(), 126u);
  FeedExact(&d, Bytes(rec.end() - 1, rec.end()), &out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(d.carried(), 0u);
  EXPECT_EQ(std::get<Unknown>(out[0]).length, 127u);
}

TEST(RecordDecoder, ZeroLengthSkipsTheHeaderAndResyncs) {
  RecordDecoder::Stats stats;
  auto events = DecodeAll(
      Concat({Header(WATCH_TYPE_DRM_XE_NOTIFY, 0, 0), EncodeVmErr(5, -1, 0)}),
      &stats);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<VmError>(events[0]).vm_id, 5u);
  EXPECT_EQ(stats.malformed, 1u);
  EXPECT_EQ(stats.records, 1u);
}

TEST(RecordDecoder, LengthBelowHeaderSizeIsSkippedAsEightBytes) {
  for (uint32_t len = 0; len < 8; ++len) {
    RecordDecoder::Stats stats;
    auto events = DecodeAll(
        Concat({Header(0, 1, len), EncodeLoss(), Header(2, 0, len)}), &stats);
    ASSERT_EQ(events.size(), 1u) << "len " << len;
    EXPECT_TRUE(std::holds_alternative<Lost>(events[0]));
    EXPECT_EQ(stats.malformed, 2u);
  }
}

TEST(RecordDecoder, ShortVmErrIsMalformed) {
  for (uint32_t len = 8; len < 24; ++len) {
    RecordDecoder::Stats stats;
    auto events = DecodeAll(Concat({Record(WATCH_TYPE_DRM_XE_NOTIFY,
                                           DRM_XE_WATCH_EVENT_VM_ERR, len),
                                    EncodeLoss()}),
                            &stats);
    ASSERT_EQ(events.size(), 1u) << "len " << len;
    EXPECT_TRUE(std::holds_alternative<Lost>(events[0]));
    EXPECT_EQ(stats.malformed, 1u);
    EXPECT_EQ(stats.records, 1u);
  }
}

TEST(RecordDecoder, OversizedVmErrIsAcceptedAndItsTailIgnored) {
  Bytes rec = EncodeVmErr(8, -ENOMEM, 77, 3);
  rec.resize(40, 0xab);
  rec[4] = 40;  // info length
  auto events = DecodeAll(Concat({rec, EncodeLoss()}));
  ASSERT_EQ(events.size(), 2u);
  const VmError& e = std::get<VmError>(events[0]);
  EXPECT_EQ(e.vm_id, 8u);
  EXPECT_EQ(e.error, -ENOMEM);
  EXPECT_EQ(e.timestamp_ns, 77u);
  EXPECT_EQ(e.watch_id, 3);
  EXPECT_TRUE(std::holds_alternative<Lost>(events[1]));
}

TEST(RecordDecoder, UnknownTypesAndSubtypesAreReported) {
  RecordDecoder::Stats stats;
  auto events = DecodeAll(
      Concat({Record(1, 0, 16, 7), Record(WATCH_TYPE_DRM_XE_NOTIFY, 1, 24, 2),
              Record(0, 2, 8), Record(0xffffff, 0xff, 127, 255)}),
      &stats);
  ASSERT_EQ(events.size(), 4u);
  const Unknown& a = std::get<Unknown>(events[0]);
  EXPECT_EQ(a.type, 1u);
  EXPECT_EQ(a.subtype, 0u);
  EXPECT_EQ(a.watch_id, 7);
  EXPECT_EQ(a.length, 16u);
  EXPECT_EQ(std::get<Unknown>(events[1]).subtype, 1u);
  EXPECT_EQ(std::get<Unknown>(events[2]).subtype, 2u);
  const Unknown& d = std::get<Unknown>(events[3]);
  EXPECT_EQ(d.type, 0xffffffu);
  EXPECT_EQ(d.subtype, 0xffu);
  EXPECT_EQ(d.watch_id, 255);
  EXPECT_EQ(d.length, 127u);
  EXPECT_EQ(stats.unknown, 4u);
  EXPECT_EQ(stats.records, 4u);
}

TEST(RecordDecoder, TypeSpecificInfoBitsDoNotChangeTheLength) {
  Bytes rec = EncodeVmErr(1, -ENOMEM, 0);
  rec[6] = 0x5a;  // info bits 16..31
  rec[7] = 0xa5;
  auto events = DecodeAll(Concat({rec, EncodeLoss()}));
  ASSERT_EQ(events.size(), 2u);
}

TEST(RecordDecoder, NeverReadsPastTheBuffer) {
  // A header that claims 127 bytes with only a few behind it must be carried,
  // not decoded; FeedExact makes ASan catch any over-read.
  for (size_t n = 0; n < 127; ++n) {
    Bytes rec = Record(WATCH_TYPE_DRM_XE_NOTIFY, 0, 127);
    rec.resize(n);
    RecordDecoder d;
    std::vector<WatchEvent> out;
    FeedExact(&d, rec, &out);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(d.carried(), n);
  }
}

TEST(RecordDecoder, EmptyFeedIsHarmless) {
  RecordDecoder d;
  std::vector<WatchEvent> out;
  d.Feed(absl::Span<const uint8_t>(), &out);
  const Bytes loss = EncodeLoss();
  FeedExact(&d, Bytes(loss.begin(), loss.begin() + 3), &out);
  d.Feed(absl::Span<const uint8_t>(), &out);
  EXPECT_EQ(d.carried(), 3u);
  EXPECT_TRUE(out.empty());
}

TEST(RecordDecoder, GarbageNeverCrashes) {
  // Deterministic pseudo-random bytes, fed in uneven pieces.
  uint32_t x = 12345;
  Bytes junk(8192);
  for (uint8_t& b : junk) {
    x = x * 1103515245u + 12345u;
    b = static_cast<uint8_t>(x >> 16);
  }
  RecordDecoder d;
  std::vector<WatchEvent> out;
  for (size_t pos = 0, step = 1; pos < junk.size();
       pos += step, step = step % 61 + 7) {
    size_t end = std::min(junk.size(), pos + step);
    FeedExact(&d, Bytes(junk.begin() + pos, junk.begin() + end), &out);
    EXPECT_LT(d.carried(), RecordDecoder::kMaxRecordSize);
  }
  EXPECT_EQ(d.stats().bytes, junk.size());
  EXPECT_EQ(out.size(), d.stats().records);
}

}  // namespace
}  // namespace xehil
