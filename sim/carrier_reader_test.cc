// CarrierReader against the sequences measured on a real 6.12 kernel
// (uapi.md): the loss record is made up by read(), after the flagged record
// is consumed, invisible to poll() and FIONREAD.
#include "sim/carrier_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"
#include "sim/notification_queue.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

constexpr size_t kVmErr = sizeof(drm_xe_watch_notification_vm_err);

uint32_t VmIdAt(const uint8_t* record) {
  drm_xe_watch_notification_vm_err parsed;
  std::memcpy(&parsed, record, sizeof(parsed));
  return parsed.vm_id;
}

bool IsLossAt(const uint8_t* record) {
  watch_notification header;
  std::memcpy(&header, record, sizeof(header));
  return header.type == WATCH_TYPE_META &&
         header.subtype == WATCH_META_LOSS_NOTIFICATION && header.info == 8;
}

class CarrierReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = NotificationQueue::Create();
    ASSERT_TRUE(created.ok()) << created.status();
    queue_ = std::move(created->first);
    pipe_ = std::move(created->second);
    int error = 0;
    reader_ = CarrierReader::Create(&error);
    ASSERT_NE(reader_, nullptr) << error;
    ASSERT_EQ(queue_->SetSize(1), 0);  // one page: 32 notes
  }

  // Posts VM_ERR records for vm ids [first, first + count).
  void PostVmErrs(uint32_t first, uint32_t count) {
    for (uint32_t id = first; id < first + count; ++id) {
      queue_->Post(testing::EncodeVmErr(id), /*watch_id=*/1);
    }
  }

  ssize_t Read(size_t size) {
    buffer_.assign(size, 0);
    return reader_->Read(fd(), buffer_.data(), size, /*writers_gone=*/false);
  }

  short PollNow() {
    pollfd p{fd(), POLLIN, 0};
    EXPECT_GE(::poll(&p, 1, 0), 0);
    return p.revents;
  }

  int fd() const { return pipe_.read_end.get(); }

  std::shared_ptr<NotificationQueue> queue_;
  NotificationPipe pipe_;
  std::unique_ptr<CarrierReader> reader_;
  std::vector<uint8_t> buffer_;
};

TEST_F(CarrierReaderTest, FortyPostsIntoOnePageGiveTheKernelsSequence) {
  PostVmErrs(0, 40);
  EXPECT_EQ(reader_->BytesQueued(fd()), static_cast<int>(32 * kVmErr));

  ASSERT_EQ(Read(64 * 1024), static_cast<ssize_t>(32 * kVmErr));
  for (uint32_t i = 0; i < 32; ++i) {
    EXPECT_EQ(VmIdAt(&buffer_[i * kVmErr]), i);
  }
  // The loss record is owed, but nothing tells: no POLLIN, FIONREAD 0.
  EXPECT_TRUE(reader_->loss_pending());
  EXPECT_EQ(PollNow(), 0);
  EXPECT_EQ(reader_->BytesQueued(fd()), 0);

  ASSERT_EQ(Read(64 * 1024), 8);
  EXPECT_TRUE(IsLossAt(buffer_.data()));
  EXPECT_EQ(Read(64 * 1024), -EAGAIN);
  EXPECT_FALSE(reader_->loss_pending());
}

TEST_F(CarrierReaderTest, LossComesInlineWhenRecordsFollowTheFlaggedOne) {
  PostVmErrs(0, 40);  // 0..31 queued, 31 flagged
  for (int i = 0; i < 10; ++i) ASSERT_EQ(Read(kVmErr), kVmErr);
  PostVmErrs(100, 5);  // room for them now

  ASSERT_EQ(Read(64 * 1024),
            static_cast<ssize_t>(22 * kVmErr + 8 + 5 * kVmErr));
  EXPECT_EQ(VmIdAt(&buffer_[0]), 10u);
  EXPECT_EQ(VmIdAt(&buffer_[21 * kVmErr]), 31u);
  EXPECT_TRUE(IsLossAt(&buffer_[22 * kVmErr]));
  EXPECT_EQ(VmIdAt(&buffer_[22 * kVmErr + 8]), 100u);
  EXPECT_EQ(Read(64 * 1024), -EAGAIN);
}

TEST_F(CarrierReaderTest, ReadEndingAtTheFlaggedRecordOwesTheLoss) {
  PostVmErrs(0, 33);
  for (int i = 0; i < 32; ++i) ASSERT_EQ(Read(kVmErr), kVmErr);
  EXPECT_EQ(PollNow(), 0);
  EXPECT_EQ(reader_->BytesQueued(fd()), 0);
  ASSERT_EQ(Read(kVmErr), 8);
  EXPECT_TRUE(IsLossAt(buffer_.data()));
}

TEST_F(CarrierReaderTest, PendingLossNeedsEightBytes) {
  PostVmErrs(0, 33);
  ASSERT_EQ(Read(64 * 1024), static_cast<ssize_t>(32 * kVmErr));
  EXPECT_EQ(Read(7), -ENOBUFS);
  EXPECT_TRUE(reader_->loss_pending());
  EXPECT_EQ(Read(8), 8);
}

TEST_F(CarrierReaderTest, LossThenARecordThatDoesNotFitReturnsTheLossAlone) {
  PostVmErrs(0, 33);
  ASSERT_EQ(Read(64 * 1024), static_cast<ssize_t>(32 * kVmErr));
  PostVmErrs(200, 1);
  ASSERT_EQ(Read(16), 8);
  EXPECT_TRUE(IsLossAt(buffer_.data()));
  EXPECT_EQ(Read(16), -ENOBUFS);
  ASSERT_EQ(Read(kVmErr), kVmErr);
  EXPECT_EQ(VmIdAt(buffer_.data()), 200u);
}

TEST_F(CarrierReaderTest, RecordThatDoesNotFitStaysQueuedAndHoldsItsNote) {
  PostVmErrs(0, 32);
  EXPECT_EQ(Read(kVmErr - 1), -ENOBUFS);
  EXPECT_EQ(reader_->BytesQueued(fd()), static_cast<int>(32 * kVmErr));
  // The ring is still full: the next post is dropped.
  PostVmErrs(32, 1);
  EXPECT_EQ(queue_->stats().dropped_full, 1u);
  ASSERT_EQ(Read(64 * 1024), static_cast<ssize_t>(32 * kVmErr));
  EXPECT_EQ(Read(64), 8);
}

TEST_F(CarrierReaderTest, ReadReturnsWholeRecordsOnly) {
  PostVmErrs(0, 3);
  ASSERT_EQ(Read(2 * kVmErr + 10), static_cast<ssize_t>(2 * kVmErr));
  EXPECT_EQ(reader_->BytesQueued(fd()), static_cast<int>(kVmErr));
}

TEST_F(CarrierReaderTest, NullReadSucceedsEvenWithALossPending) {
  PostVmErrs(0, 33);
  ASSERT_EQ(Read(64 * 1024), static_cast<ssize_t>(32 * kVmErr));
  EXPECT_EQ(reader_->Read(fd(), nullptr, 0, false), 0);
  EXPECT_TRUE(reader_->loss_pending());
}

TEST_F(CarrierReaderTest, EmptyPipeReadsEofOnlyWhenWritersAreGone) {
  EXPECT_EQ(reader_->Read(fd(), nullptr, 8, /*writers_gone=*/false), -EAGAIN);
  uint8_t out[8];
  EXPECT_EQ(reader_->Read(fd(), out, 8, /*writers_gone=*/true), 0);
  // EOF is not final: a later record is read, then EOF again.
  PostVmErrs(7, 1);
  uint8_t record[kVmErr];
  EXPECT_EQ(reader_->Read(fd(), record, sizeof(record), true), kVmErr);
  EXPECT_EQ(reader_->Read(fd(), record, sizeof(record), true), 0);
}

TEST_F(CarrierReaderTest, MarkerLeftAtTheHeadByARaceBecomesThePendingLoss) {
  PostVmErrs(0, 33);
  // Consume the flagged record behind the reader's back: its marker is now
  // at the head, as when a drop lands between a peek and the read.
  std::vector<uint8_t> raw(32 * kVmErr);
  ASSERT_EQ(::read(fd(), raw.data(), raw.size()),
            static_cast<ssize_t>(raw.size()));
  EXPECT_EQ(reader_->BytesQueued(fd()), 0);
  ASSERT_EQ(Read(64), 8);
  EXPECT_TRUE(IsLossAt(buffer_.data()));
  EXPECT_EQ(Read(64), -EAGAIN);
}

TEST_F(CarrierReaderTest, SeveralRunsOfDropsGiveOneLossEach) {
  PostVmErrs(0, 35);  // run 1 flags record 31
  ASSERT_EQ(Read(16 * kVmErr), static_cast<ssize_t>(16 * kVmErr));
  PostVmErrs(100, 20);  // 16 fit, run 2 flags record 115
  // 16 old, loss, 16 new; the second loss is owed to the next read.
  ASSERT_EQ(Read(64 * 1024),
            static_cast<ssize_t>(16 * kVmErr + 8 + 16 * kVmErr));
  EXPECT_TRUE(IsLossAt(&buffer_[16 * kVmErr]));
  EXPECT_EQ(VmIdAt(&buffer_[16 * kVmErr + 8 + 15 * kVmErr]), 115u);
  ASSERT_EQ(Read(64), 8);
  EXPECT_TRUE(IsLossAt(buffer_.data()));
  EXPECT_EQ(Read(64), -EAGAIN);
}

TEST(NotificationQueue, NeverQueuesALossRecordPostedAsData) {
  auto created = NotificationQueue::Create();
  ASSERT_TRUE(created.ok());
  ASSERT_EQ(created->first->SetSize(1), 0);
  watch_notification loss{};
  loss.type = WATCH_TYPE_META;
  loss.subtype = WATCH_META_LOSS_NOTIFICATION;
  loss.info = 8;
  std::vector<uint8_t> bytes(8);
  std::memcpy(bytes.data(), &loss, 8);
  EXPECT_FALSE(created->first->Post(bytes, 0));
}

}  // namespace
}  // namespace xehil::sim
