#include "sim/preload/record_stager.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::preload {
namespace {

using ::testing::ElementsAreArray;

// A pipe in memory; counts reads so tests can see nothing is over-read.
class FakeSource : public RecordSource {
 public:
  void Push(const std::vector<uint8_t>& bytes) {
    bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  }
  ssize_t Available() override {
    if (fail_available_ != 0) return -fail_available_;
    return static_cast<ssize_t>(bytes_.size());
  }
  ssize_t Read(uint8_t* out, size_t size) override {
    EXPECT_LE(size, bytes_.size()) << "read beyond what FIONREAD reported";
    size = std::min(size, bytes_.size());
    std::memcpy(out, bytes_.data(), size);
    bytes_.erase(bytes_.begin(), bytes_.begin() + size);
    return static_cast<ssize_t>(size);
  }
  size_t left() const { return bytes_.size(); }
  int fail_available_ = 0;

 private:
  std::vector<uint8_t> bytes_;
};

// A record of `length` bytes whose payload bytes are `fill`.
std::vector<uint8_t> Record(uint32_t length, uint8_t fill) {
  std::vector<uint8_t> out(length, fill);
  const uint32_t type_subtype = 2;  // type 2, subtype 0
  const uint32_t info = length | (7u << 8);
  std::memcpy(out.data(), &type_subtype, 4);
  std::memcpy(out.data() + 4, &info, 4);
  return out;
}

TEST(RecordStager, ReadsAsManyWholeRecordsAsFit) {
  FakeSource source;
  std::vector<uint8_t> a = Record(24, 0xa), b = Record(24, 0xb),
                       c = Record(16, 0xc);
  source.Push(a);
  source.Push(b);
  source.Push(c);
  RecordStager stager;
  uint8_t buf[60];
  ASSERT_EQ(stager.Read(buf, sizeof(buf), source), 48);
  std::vector<uint8_t> ab(a);
  ab.insert(ab.end(), b.begin(), b.end());
  EXPECT_THAT(std::vector<uint8_t>(buf, buf + 48), ElementsAreArray(ab));
  // The third record was staged (it did not fit), not lost.
  EXPECT_EQ(stager.staged(), 16u);
  EXPECT_TRUE(stager.HasWholeRecord());
  ASSERT_EQ(stager.Read(buf, sizeof(buf), source), 16);
  EXPECT_THAT(std::vector<uint8_t>(buf, buf + 16), ElementsAreArray(c));
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 0);
}

TEST(RecordStager, TooSmallBufferIsEnobufsAndKeepsTheRecord) {
  FakeSource source;
  std::vector<uint8_t> a = Record(24, 0xa);
  source.Push(a);
  RecordStager stager;
  uint8_t buf[64];
  EXPECT_EQ(stager.Read(buf, 23, source), -ENOBUFS);
  EXPECT_EQ(stager.Read(buf, 8, source), -ENOBUFS);
  EXPECT_EQ(stager.staged(), 24u);
  EXPECT_EQ(source.left(), 0u);
  ASSERT_EQ(stager.Read(buf, 24, source), 24);
  EXPECT_THAT(std::vector<uint8_t>(buf, buf + 24), ElementsAreArray(a));
}

TEST(RecordStager, EmptyPipeReadsNothing) {
  FakeSource source;
  RecordStager stager;
  uint8_t buf[64];
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 0);
  EXPECT_EQ(stager.staged(), 0u);
}

TEST(RecordStager, PartialRecordWaitsForTheRest) {
  FakeSource source;
  std::vector<uint8_t> a = Record(24, 0xa);
  source.Push(std::vector<uint8_t>(a.begin(), a.begin() + 5));
  RecordStager stager;
  uint8_t buf[64];
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 0);
  EXPECT_EQ(stager.staged(), 5u);
  EXPECT_FALSE(stager.HasWholeRecord());
  source.Push(std::vector<uint8_t>(a.begin() + 5, a.begin() + 12));
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 0);
  source.Push(std::vector<uint8_t>(a.begin() + 12, a.end()));
  ASSERT_EQ(stager.Read(buf, sizeof(buf), source), 24);
  EXPECT_THAT(std::vector<uint8_t>(buf, buf + 24), ElementsAreArray(a));
}

TEST(RecordStager, MalformedShortLengthAdvancesByOneHeader) {
  FakeSource source;
  std::vector<uint8_t> bad = Record(8, 0);
  bad[4] = 3;  // length 3 < header: must not stall
  std::vector<uint8_t> good = Record(8, 0);
  source.Push(bad);
  source.Push(good);
  RecordStager stager;
  uint8_t buf[64];
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 16);
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 0);
}

TEST(RecordStager, SourceErrorIsReturnedOnlyWhenNothingWasCopied) {
  FakeSource source;
  RecordStager stager;
  uint8_t buf[64];
  source.fail_available_ = EBADF;
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), -EBADF);
  source.fail_available_ = 0;
  source.Push(Record(16, 1));
  source.Push(Record(60, 2));
  EXPECT_EQ(stager.Read(buf, 20, source), 16);  // second record staged
  source.fail_available_ = EIO;
  // The staged record is still delivered; the failure surfaces next time.
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), 60);
  EXPECT_EQ(stager.Read(buf, sizeof(buf), source), -EIO);
}

}  // namespace
}  // namespace xehil::preload
