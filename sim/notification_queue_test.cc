#include "sim/notification_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

#include "core/uapi/xe_uapi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// A record of `len` bytes with a recognisable payload.
std::vector<uint8_t> MakeRecord(uint32_t type, uint32_t subtype, size_t len,
                                uint32_t type_info = 0, uint8_t seed = 0x40) {
  watch_notification header{};
  header.type = type;
  header.subtype = subtype;
  header.info = static_cast<uint32_t>(len & WATCH_INFO_LENGTH) |
                (type_info << WATCH_INFO_TYPE_INFO__SHIFT);
  std::vector<uint8_t> bytes(len);
  for (size_t i = sizeof(header); i < len; ++i) {
    bytes[i] = static_cast<uint8_t>(seed + i);
  }
  std::memcpy(bytes.data(), &header, std::min(len, sizeof(header)));
  return bytes;
}

std::vector<uint8_t> VmErr(uint8_t seed = 0x40) {
  return MakeRecord(WATCH_TYPE_DRM_XE_NOTIFY, DRM_XE_WATCH_EVENT_VM_ERR,
                    sizeof(drm_xe_watch_notification_vm_err), 0, seed);
}

struct Parsed {
  uint32_t word0;  // type | subtype << 24
  uint32_t info;
  std::vector<uint8_t> bytes;
  bool is_loss() const { return word0 == (1u << 24) && info == 8; }
};

std::vector<Parsed> Parse(const std::vector<uint8_t>& stream) {
  std::vector<Parsed> records;
  size_t at = 0;
  while (at + 8 <= stream.size()) {
    Parsed p;
    std::memcpy(&p.word0, &stream[at], 4);
    std::memcpy(&p.info, &stream[at + 4], 4);
    const size_t len = p.info & WATCH_INFO_LENGTH;
    if (len < 8 || at + len > stream.size()) break;
    p.bytes.assign(stream.begin() + at, stream.begin() + at + len);
    records.push_back(p);
    at += len;
  }
  EXPECT_EQ(at, stream.size()) << "stream does not end on a record boundary";
  return records;
}

// The watch filter as the ioctl receives it: header plus entries.
class FilterBuffer {
 public:
  FilterBuffer(const std::vector<watch_notification_type_filter>& entries,
               uint32_t reserved = 0)
      : storage_(sizeof(watch_notification_filter) +
                 entries.size() * sizeof(watch_notification_type_filter)) {
    watch_notification_filter header{};
    header.nr_filters = static_cast<uint32_t>(entries.size());
    header.__reserved = reserved;
    std::memcpy(storage_.data(), &header, sizeof(header));
    if (!entries.empty()) {
      std::memcpy(storage_.data() + sizeof(header), entries.data(),
                  entries.size() * sizeof(entries[0]));
    }
  }
  watch_notification_filter* get() {
    return reinterpret_cast<watch_notification_filter*>(storage_.data());
  }

 private:
  std::vector<unsigned char> storage_;
};

watch_notification_type_filter Entry(uint32_t type, uint32_t subtypes,
                                     uint32_t mask = 0, uint32_t value = 0) {
  watch_notification_type_filter entry{};
  entry.type = type;
  entry.subtype_filter[0] = subtypes;
  entry.info_mask = mask;
  entry.info_filter = value;
  return entry;
}

class NotificationQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto created = NotificationQueue::Create();
    ASSERT_TRUE(created.ok()) << created.status();
    queue_ = std::move(created->first);
    pipe_ = std::move(created->second);
    const int flags = fcntl(pipe_.read_end.get(), F_GETFL);
    ASSERT_EQ(fcntl(pipe_.read_end.get(), F_SETFL, flags | O_NONBLOCK), 0);
  }

  // Everything readable now (the read end is non-blocking).
  std::vector<uint8_t> ReadAll() {
    std::vector<uint8_t> out;
    std::vector<uint8_t> buffer(64 * 1024);
    for (;;) {
      const ssize_t n =
          read(pipe_.read_end.get(), buffer.data(), buffer.size());
      if (n > 0) {
        out.insert(out.end(), buffer.begin(), buffer.begin() + n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      EXPECT_TRUE(n == 0 || errno == EAGAIN) << strerror(errno);
      return out;
    }
  }

  // Reads exactly `n` bytes that are known to be queued.
  std::vector<uint8_t> ReadExactly(size_t n) {
    std::vector<uint8_t> out(n);
    EXPECT_EQ(read(pipe_.read_end.get(), out.data(), n),
              static_cast<ssize_t>(n));
    return out;
  }

  // Fills a freshly sized queue with `n` distinct VM_ERR records.
  void Fill(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(queue_->Post(VmErr(static_cast<uint8_t>(i)), 1)) << i;
    }
  }

  std::shared_ptr<NotificationQueue> queue_;
  NotificationPipe pipe_;
};

constexpr size_t kVmErrSize = sizeof(drm_xe_watch_notification_vm_err);

TEST_F(NotificationQueueTest, PostsByteIdenticalRecordWithWatchIdOredIn) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  std::vector<uint8_t> record = MakeRecord(2, 0, 24, 0x1234, 0x10);
  ASSERT_TRUE(queue_->Post(record, 7));
  std::vector<uint8_t> expected = record;
  expected[5] = 7;  // info bits 8..15, little-endian
  EXPECT_EQ(ReadAll(), expected);
}

TEST_F(NotificationQueueTest, WatchIdReplacesIdBitsAlreadyInRecord) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  std::vector<uint8_t> record = MakeRecord(2, 0, 16);
  record[5] = 0xff;
  ASSERT_TRUE(queue_->Post(record, 3));
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].info, 16u | 3u << 8);
}

TEST_F(NotificationQueueTest, RejectsRecordsWithBadLengthWithoutWriting) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  EXPECT_FALSE(queue_->Post(MakeRecord(2, 0, 7), 1));
  std::vector<uint8_t> mismatch = MakeRecord(2, 0, 24);
  mismatch[4] = 16;
  EXPECT_FALSE(queue_->Post(mismatch, 1));
  std::vector<uint8_t> too_long(128);
  too_long[4] = 127;
  EXPECT_FALSE(queue_->Post(too_long, 1));
  EXPECT_FALSE(queue_->Post({}, 1));
  EXPECT_TRUE(ReadAll().empty());
  EXPECT_EQ(queue_->stats().posted, 0u);
}

TEST_F(NotificationQueueTest, SetSizeRejectsZeroAndMoreThan512Notes) {
  EXPECT_EQ(queue_->SetSize(0), -EINVAL);
  EXPECT_EQ(queue_->SetSize(513), -EINVAL);
  EXPECT_EQ(queue_->capacity_notes(), 0u);
  EXPECT_EQ(queue_->SetSize(512), 0);
}

TEST_F(NotificationQueueTest, SecondSetSizeIsBusy) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  EXPECT_EQ(queue_->SetSize(64), -EBUSY);
  EXPECT_EQ(queue_->SetSize(0), -EBUSY);
  EXPECT_EQ(queue_->capacity_notes(), 32u);
}

TEST_F(NotificationQueueTest, UnsizedQueueDropsEverythingWithoutLossRecord) {
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->PostRemoval(1));
  EXPECT_TRUE(ReadAll().empty());
  const auto stats = queue_->stats();
  EXPECT_EQ(stats.dropped_unsized, 3u);
  EXPECT_EQ(stats.loss_records, 0u);
  EXPECT_EQ(stats.dropped_full, 0u);
}

struct Rounding {
  unsigned long notes;
  uint32_t capacity;
};

class CapacityTest : public NotificationQueueTest,
                     public ::testing::WithParamInterface<Rounding> {};

TEST_P(CapacityTest, RoundsUpToWholePagesAndHoldsExactlyThatMany) {
  ASSERT_EQ(queue_->SetSize(GetParam().notes), 0);
  ASSERT_EQ(queue_->capacity_notes(), GetParam().capacity);
  Fill(static_cast<int>(GetParam().capacity));
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_EQ(queue_->stats().dropped_full, 1u);
}

INSTANTIATE_TEST_SUITE_P(Notes, CapacityTest,
                         ::testing::Values(Rounding{1, 32}, Rounding{32, 32},
                                           Rounding{33, 64}, Rounding{500, 512},
                                           Rounding{512, 512}));

TEST_F(NotificationQueueTest, FullRingOfLongestRecordsAndLossFitInPipe) {
  ASSERT_EQ(queue_->SetSize(512), 0);
  for (int i = 0; i < 512; ++i) {
    ASSERT_TRUE(queue_->Post(MakeRecord(2, 0, 127), 1)) << i;
  }
  EXPECT_FALSE(queue_->Post(MakeRecord(2, 0, 127), 1));
  EXPECT_EQ(queue_->stats().loss_records, 1u);
  EXPECT_EQ(ReadAll().size(), 512u * 127u + 8u);
}

TEST_F(NotificationQueueTest, ConsumingOneRecordFreesOneNote) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  Fill(32);
  ReadExactly(kVmErrSize);
  EXPECT_TRUE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
}

TEST_F(NotificationQueueTest, PartlyReadRecordKeepsItsNote) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  Fill(32);
  ReadExactly(kVmErrSize - 1);
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  ReadExactly(1);
  EXPECT_TRUE(queue_->Post(VmErr(0x77), 1));
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 33u);  // records 2..32, loss, the new one
  EXPECT_TRUE(records[31].is_loss());
  EXPECT_EQ(records[32].bytes[kVmErrSize - 1],
            static_cast<uint8_t>(0x77 + kVmErrSize - 1));
}

TEST_F(NotificationQueueTest, BurstOfDropsYieldsOneLossRecordAfterLastQueued) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  Fill(32);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(queue_->Post(VmErr(), 1));
  std::vector<uint8_t> stream = ReadAll();
  ASSERT_EQ(stream.size(), 32 * kVmErrSize + 8);
  uint32_t loss[2];
  std::memcpy(loss, &stream[32 * kVmErrSize], sizeof(loss));
  EXPECT_EQ(loss[0], 0x01000000u);  // type 0, subtype 1 (LOSS)
  EXPECT_EQ(loss[1], 8u);
  const auto stats = queue_->stats();
  EXPECT_EQ(stats.dropped_full, 5u);
  EXPECT_EQ(stats.loss_records, 1u);
  EXPECT_EQ(stats.posted, 32u);
}

TEST_F(NotificationQueueTest, LaterDropAfterSuccessfulPostGetsSecondLoss) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  Fill(32);
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  ReadExactly(kVmErrSize);
  EXPECT_TRUE(queue_->Post(VmErr(0x99), 2));
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 34u);  // records 2..32, loss, new, loss
  for (int i = 0; i < 31; ++i) EXPECT_FALSE(records[i].is_loss()) << i;
  EXPECT_TRUE(records[31].is_loss());
  EXPECT_EQ(records[32].info & WATCH_INFO_ID, 2u << 8);
  EXPECT_TRUE(records[33].is_loss());
  EXPECT_EQ(queue_->stats().loss_records, 2u);
}

TEST_F(NotificationQueueTest, RemovalRecordHasMetaLayoutAndTakesANote) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  ASSERT_TRUE(queue_->PostRemoval(9));
  std::vector<uint8_t> stream = ReadAll();
  ASSERT_EQ(stream.size(), 8u);
  uint32_t words[2];
  std::memcpy(words, stream.data(), sizeof(words));
  EXPECT_EQ(words[0], 0u);
  EXPECT_EQ(words[1], 8u | 9u << 8);

  Fill(32);
  EXPECT_FALSE(queue_->PostRemoval(9));
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 33u);
  EXPECT_TRUE(records.back().is_loss());
  EXPECT_EQ(queue_->stats().removals, 1u);
  EXPECT_EQ(queue_->stats().dropped_full, 1u);
}

TEST_F(NotificationQueueTest, FilterMatchesTypeSubtypeAndInfoMask) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  FilterBuffer filter({Entry(2, 1u << 0, 0x00ff0000, 0x00010000)});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  std::vector<uint8_t> pass = MakeRecord(2, 0, 16, 0x01);
  EXPECT_TRUE(queue_->Post(pass, 4));
  EXPECT_FALSE(queue_->Post(MakeRecord(2, 1, 16, 0x01), 4));  // subtype
  EXPECT_FALSE(queue_->Post(MakeRecord(2, 0, 16, 0x02), 4));  // info
  EXPECT_FALSE(queue_->Post(MakeRecord(1, 0, 16, 0x01), 4));  // type
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 1u);
  pass[5] = 4;
  EXPECT_EQ(records[0].bytes, pass);
  EXPECT_EQ(queue_->stats().filtered, 3u);
  EXPECT_EQ(queue_->stats().posted, 1u);
}

TEST_F(NotificationQueueTest, FilterSeesWatchIdInInfo) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  FilterBuffer filter({Entry(2, ~0u, WATCH_INFO_ID, 5u << 8)});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  EXPECT_TRUE(queue_->Post(VmErr(), 5));
  EXPECT_FALSE(queue_->Post(VmErr(), 6));
}

TEST_F(NotificationQueueTest, FilterPassesOnlyFirst32Subtypes) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  watch_notification_type_filter all = Entry(2, ~0u);
  for (uint32_t& word : all.subtype_filter) word = ~0u;
  FilterBuffer filter({all});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  EXPECT_TRUE(queue_->Post(MakeRecord(2, 31, 16), 1));
  EXPECT_FALSE(queue_->Post(MakeRecord(2, 32, 16), 1));
}

TEST_F(NotificationQueueTest, MetaRecordsBypassFilter) {
  ASSERT_EQ(queue_->SetSize(1), 0);
  FilterBuffer filter({Entry(2, 1u << 0)});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  EXPECT_TRUE(queue_->PostRemoval(3));
  EXPECT_TRUE(queue_->Post(MakeRecord(WATCH_TYPE_META, 0, 8), 3));
  Fill(30);
  EXPECT_FALSE(queue_->Post(VmErr(), 1));  // full: the loss record passes
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 33u);
  EXPECT_EQ(records[0].info, 8u | 3u << 8);
  EXPECT_TRUE(records.back().is_loss());
  EXPECT_EQ(queue_->stats().filtered, 0u);
}

TEST_F(NotificationQueueTest, InvalidFiltersAreRejectedAndKeepOldFilter) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  FilterBuffer good({Entry(2, 1u)});
  ASSERT_EQ(queue_->SetFilter(good.get()), 0);

  FilterBuffer reserved({Entry(2, 1u)}, /*reserved=*/1);
  EXPECT_EQ(queue_->SetFilter(reserved.get()), -EINVAL);
  FilterBuffer none({});
  EXPECT_EQ(queue_->SetFilter(none.get()), -EINVAL);
  FilterBuffer seventeen(
      std::vector<watch_notification_type_filter>(17, Entry(1, ~0u)));
  EXPECT_EQ(queue_->SetFilter(seventeen.get()), -EINVAL);
  FilterBuffer outside_mask({Entry(1, ~0u, 0x00ff0000, 0x01000000)});
  EXPECT_EQ(queue_->SetFilter(outside_mask.get()), -EINVAL);
  FilterBuffer length_mask({Entry(1, ~0u, 0x00000001, 0)});
  EXPECT_EQ(queue_->SetFilter(length_mask.get()), -EINVAL);
  FilterBuffer bad_unknown({Entry(2, 1u), Entry(9, ~0u, 0, 0x100)});
  EXPECT_EQ(queue_->SetFilter(bad_unknown.get()), -EINVAL);

  FilterBuffer sixteen(
      std::vector<watch_notification_type_filter>(16, Entry(2, 1u)));
  EXPECT_EQ(queue_->SetFilter(sixteen.get()), 0);
  EXPECT_FALSE(queue_->Post(MakeRecord(1, 0, 16), 1));  // old filter kept
}

TEST_F(NotificationQueueTest, UnknownTypeEntriesAreIgnored) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  FilterBuffer mixed({Entry(3, ~0u), Entry(2, 1u)});
  ASSERT_EQ(queue_->SetFilter(mixed.get()), 0);
  EXPECT_FALSE(queue_->Post(MakeRecord(3, 0, 16), 1));
  EXPECT_TRUE(queue_->Post(VmErr(), 1));

  // With only unknown entries the filter still rejects by default.
  FilterBuffer unknown_only({Entry(7, ~0u)});
  ASSERT_EQ(queue_->SetFilter(unknown_only.get()), 0);
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->Post(MakeRecord(7, 0, 16), 1));
  EXPECT_TRUE(queue_->PostRemoval(1));
  EXPECT_EQ(queue_->stats().filtered, 3u);
}

TEST_F(NotificationQueueTest, NullFilterRemovesFiltering) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  FilterBuffer filter({Entry(2, 1u)});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  EXPECT_FALSE(queue_->Post(MakeRecord(1, 0, 16), 1));
  ASSERT_EQ(queue_->SetFilter(nullptr), 0);
  EXPECT_TRUE(queue_->Post(MakeRecord(1, 0, 16), 1));
}

TEST_F(NotificationQueueTest, RefersToEitherEndOfItsOwnPipeOnly) {
  EXPECT_TRUE(queue_->Refers(pipe_.read_end.get()));
  EXPECT_TRUE(queue_->Refers(pipe_.write_end.get()));
  UniqueFd dup_read(fcntl(pipe_.read_end.get(), F_DUPFD_CLOEXEC, 0));
  EXPECT_TRUE(queue_->Refers(dup_read.get()));
  int other[2];
  ASSERT_EQ(pipe2(other, O_CLOEXEC), 0);
  UniqueFd other_read(other[0]), other_write(other[1]);
  EXPECT_FALSE(queue_->Refers(other_read.get()));
  EXPECT_FALSE(queue_->Refers(other_write.get()));
  UniqueFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  EXPECT_FALSE(queue_->Refers(dev_null.get()));
  EXPECT_FALSE(queue_->Refers(-1));
}

volatile sig_atomic_t g_sigpipes = 0;
void CountSigpipe(int) { g_sigpipes = g_sigpipes + 1; }

TEST_F(NotificationQueueTest, PostAfterReaderClosedFailsWithoutSigpipe) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  struct sigaction counting {
  }, old{};
  counting.sa_handler = CountSigpipe;
  sigemptyset(&counting.sa_mask);
  ASSERT_EQ(sigaction(SIGPIPE, &counting, &old), 0);
  g_sigpipes = 0;
  pipe_.read_end.reset();

  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_FALSE(queue_->PostRemoval(1));

  sigset_t pending, mask;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
  ASSERT_EQ(pthread_sigmask(SIG_SETMASK, nullptr, &mask), 0);
  EXPECT_EQ(sigismember(&mask, SIGPIPE), 0);  // mask restored
  EXPECT_EQ(g_sigpipes, 0);
  EXPECT_EQ(queue_->stats().write_failed, 2u);
  EXPECT_EQ(queue_->stats().posted, 0u);
  ASSERT_EQ(sigaction(SIGPIPE, &old, nullptr), 0);
}

TEST_F(NotificationQueueTest, PostAfterReaderClosedSurvivesDefaultSigpipe) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  struct sigaction dfl {
  }, old{};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ASSERT_EQ(sigaction(SIGPIPE, &dfl, &old), 0);
  pipe_.read_end.reset();
  EXPECT_FALSE(queue_->Post(VmErr(), 1));  // would kill the test if raised
  ASSERT_EQ(sigaction(SIGPIPE, &old, nullptr), 0);
}

// The kernel is not a writer: with the user's write end closed the reader
// sees EOF between records, and a later record still arrives (uapi.md).
TEST_F(NotificationQueueTest,
       ReaderSeesEofBetweenRecordsOnceTheUserWriteEndCloses) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  Fill(2);
  pipe_.write_end.reset();
  EXPECT_EQ(ReadAll().size(), 2 * kVmErrSize);
  char byte;
  EXPECT_EQ(read(pipe_.read_end.get(), &byte, 1), 0) << "EOF";
  pollfd pfd{pipe_.read_end.get(), POLLIN, 0};
  EXPECT_EQ(poll(&pfd, 1, 0), 1);
  EXPECT_EQ(pfd.revents, POLLHUP);

  EXPECT_TRUE(queue_->Post(VmErr(), 1));
  EXPECT_EQ(poll(&pfd, 1, 0), 1);
  EXPECT_EQ(pfd.revents, POLLIN | POLLHUP);
  EXPECT_EQ(read(pipe_.read_end.get(), &byte, 1), 1);  // drains first
  EXPECT_EQ(ReadAll().size(), kVmErrSize - 1);
  EXPECT_EQ(read(pipe_.read_end.get(), &byte, 1), 0) << "EOF again";

  queue_->CloseWriteEnd();
  EXPECT_FALSE(queue_->Post(VmErr(), 1));
  EXPECT_EQ(queue_->stats().write_failed, 1u);
}

TEST_F(NotificationQueueTest, WhileTheUserWriteEndIsOpenAnEmptyPipeIsNotEof) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  Fill(1);
  EXPECT_EQ(ReadAll().size(), kVmErrSize);
  char byte;
  EXPECT_EQ(read(pipe_.read_end.get(), &byte, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(NotificationQueueTest, StatsCountEveryOutcome) {
  EXPECT_FALSE(queue_->Post(VmErr(), 1));  // unsized
  ASSERT_EQ(queue_->SetSize(1), 0);
  FilterBuffer filter({Entry(2, 1u)});
  ASSERT_EQ(queue_->SetFilter(filter.get()), 0);
  EXPECT_FALSE(queue_->Post(MakeRecord(1, 0, 16), 1));  // filtered
  Fill(32);
  EXPECT_FALSE(queue_->Post(VmErr(), 1));  // full: loss record
  EXPECT_FALSE(queue_->PostRemoval(1));    // full, collapses into the loss
  ReadAll();
  EXPECT_TRUE(queue_->PostRemoval(1));
  queue_->CloseWriteEnd();
  EXPECT_FALSE(queue_->Post(VmErr(), 1));  // pipe gone

  const auto stats = queue_->stats();
  EXPECT_EQ(stats.dropped_unsized, 1u);
  EXPECT_EQ(stats.filtered, 1u);
  EXPECT_EQ(stats.posted, 33u);
  EXPECT_EQ(stats.dropped_full, 2u);
  EXPECT_EQ(stats.loss_records, 1u);
  EXPECT_EQ(stats.removals, 1u);
  EXPECT_EQ(stats.write_failed, 1u);
}

TEST_F(NotificationQueueTest, TwoPostersShareTheRingExactly) {
  ASSERT_EQ(queue_->SetSize(512), 0);
  constexpr int kPerThread = 300;
  int accepted[2] = {0, 0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 2; ++t) {
    posters.emplace_back([this, t, &accepted] {
      for (int i = 0; i < kPerThread; ++i) {
        if (queue_->Post(VmErr(static_cast<uint8_t>(i)), t + 1)) {
          ++accepted[t];
        }
      }
    });
  }
  for (std::thread& poster : posters) poster.join();

  EXPECT_EQ(accepted[0] + accepted[1], 512);
  const auto stats = queue_->stats();
  EXPECT_EQ(stats.posted, 512u);
  EXPECT_EQ(stats.dropped_full, 2u * kPerThread - 512u);
  EXPECT_EQ(stats.loss_records, 1u);
  auto records = Parse(ReadAll());
  ASSERT_EQ(records.size(), 513u);
  int seen[2] = {0, 0};
  for (size_t i = 0; i + 1 < records.size(); ++i) {
    const uint32_t id = (records[i].info & WATCH_INFO_ID) >> 8;
    ASSERT_TRUE(id == 1 || id == 2) << i;
    ++seen[id - 1];
  }
  EXPECT_EQ(seen[0], accepted[0]);
  EXPECT_EQ(seen[1], accepted[1]);
  EXPECT_TRUE(records.back().is_loss());
}

TEST_F(NotificationQueueTest, ConcurrentPostersAndReaderKeepAccountsStraight) {
  ASSERT_EQ(queue_->SetSize(32), 0);
  constexpr int kPerThread = 2000;
  std::vector<uint8_t> stream;
  bool reader_ok = true;
  std::thread reader([this, &stream, &reader_ok] {
    std::vector<uint8_t> buffer(8192);
    for (;;) {
      pollfd pfd{pipe_.read_end.get(), POLLIN, 0};
      // A bound against hanging on a bug, not a synchronisation delay.
      if (poll(&pfd, 1, 20000) <= 0) {
        reader_ok = false;
        return;
      }
      const ssize_t n =
          read(pipe_.read_end.get(), buffer.data(), buffer.size());
      if (n == 0) return;  // EOF: every writer is gone
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n < 0) {
        reader_ok = false;
        return;
      }
      stream.insert(stream.end(), buffer.begin(), buffer.begin() + n);
    }
  });
  int accepted[2] = {0, 0};
  std::vector<std::thread> posters;
  for (int t = 0; t < 2; ++t) {
    posters.emplace_back([this, t, &accepted] {
      for (int i = 0; i < kPerThread; ++i) {
        if (queue_->Post(VmErr(static_cast<uint8_t>(i)), t + 1)) ++accepted[t];
      }
    });
  }
  for (std::thread& poster : posters) poster.join();
  queue_->CloseWriteEnd();
  pipe_.write_end.reset();
  reader.join();
  ASSERT_TRUE(reader_ok);

  const auto stats = queue_->stats();
  EXPECT_EQ(stats.posted + stats.dropped_full, 2u * kPerThread);
  int seen[2] = {0, 0};
  uint64_t losses = 0;
  for (const Parsed& record : Parse(stream)) {
    if (record.is_loss()) {
      ++losses;
      continue;
    }
    const uint32_t id = (record.info & WATCH_INFO_ID) >> 8;
    ASSERT_TRUE(id == 1 || id == 2);
    ++seen[id - 1];
  }
  EXPECT_EQ(seen[0], accepted[0]);
  EXPECT_EQ(seen[1], accepted[1]);
  EXPECT_EQ(losses, stats.loss_records);
}

TEST(NotificationQueueAdopt, PostsIntoAnExistingPipeAndRefersToIt) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]);
  // What a daemon receives by SCM_RIGHTS: another descriptor of the write end.
  UniqueFd received(::fcntl(fds[1], F_DUPFD_CLOEXEC, 0));
  UniqueFd client_write_end(fds[1]);
  auto adopted = NotificationQueue::Adopt(std::move(received));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  std::shared_ptr<NotificationQueue> queue = *adopted;
  EXPECT_TRUE(queue->Refers(read_end.get()));
  EXPECT_TRUE(queue->Refers(client_write_end.get()));
  // The queue writes through a description of its own: the client's flags
  // are left alone.
  EXPECT_EQ(::fcntl(client_write_end.get(), F_GETFL) & O_NONBLOCK, 0);

  ASSERT_EQ(queue->SetSize(1), 0);
  EXPECT_EQ(queue->capacity_notes(), 32u);
  const std::vector<uint8_t> record = VmErr();
  ASSERT_TRUE(queue->Post(record, 3));
  std::vector<uint8_t> got(64);
  const ssize_t n = ::read(read_end.get(), got.data(), got.size());
  ASSERT_EQ(n, static_cast<ssize_t>(record.size()));
  watch_notification header;
  std::memcpy(&header, got.data(), sizeof(header));
  EXPECT_EQ((header.info & WATCH_INFO_ID) >> 8, 3u);

  // Closing both write ends gives the reader EOF.
  queue->CloseWriteEnd();
  client_write_end.reset();
  EXPECT_EQ(::read(read_end.get(), got.data(), got.size()), 0);
}

TEST(NotificationQueueAdopt, ClientClearingNonblockCannotMakeAPostBlock) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(fds[0]);
  UniqueFd client_write_end(fds[1]);
  auto adopted =
      NotificationQueue::Adopt(UniqueFd(::fcntl(fds[1], F_DUPFD_CLOEXEC, 0)));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  std::shared_ptr<NotificationQueue> queue = *adopted;
  ASSERT_EQ(queue->SetSize(1), 0);
  // The hostile client: a one-page pipe, filled, then blocking.
  ASSERT_GE(::fcntl(client_write_end.get(), F_SETPIPE_SZ, 4096), 0);
  const std::vector<uint8_t> junk(4096, 0xee);
  while (::write(client_write_end.get(), junk.data(), junk.size()) > 0) {
  }
  ASSERT_EQ(::fcntl(client_write_end.get(), F_SETFL, 0), 0);

  std::future<bool> posted =
      std::async(std::launch::async, [&] { return queue->Post(VmErr(), 1); });
  if (posted.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "Post blocked on a full pipe";
    std::vector<uint8_t> drain(8192);
    (void)!::read(read_end.get(), drain.data(), drain.size());
  }
  EXPECT_FALSE(posted.get());
  EXPECT_EQ(queue->stats().dropped_full, 1u);
}

TEST(NotificationQueueAdopt, RejectsReadEndsAndNonPipes) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd write_end(fds[1]);
  auto read_end = NotificationQueue::Adopt(UniqueFd(fds[0]));
  EXPECT_EQ(read_end.status().code(), absl::StatusCode::kInvalidArgument);

  auto file = NotificationQueue::Adopt(
      UniqueFd(::open("/dev/null", O_WRONLY | O_CLOEXEC)));
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);

  auto none = NotificationQueue::Adopt(UniqueFd());
  EXPECT_FALSE(none.ok());
}

}  // namespace
}  // namespace xehil::sim
