#include "sim/preload/fd_table.h"

#include <cerrno>
#include <memory>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::preload {
namespace {

// Releases seen by the NotifyPipe destructor, for the tests below.
std::vector<uint64_t>* released = nullptr;
void RecordRelease(const NotifyPipe& pipe) {
  if (released != nullptr) released->push_back(pipe.pipe_id());
}

class FdTableTest : public ::testing::Test {
 protected:
  FdTableTest() { released = &released_; }
  ~FdTableTest() override { released = nullptr; }

  // Registers both ends of pipe `id` as fds `r` and `w`.
  std::shared_ptr<NotifyPipe> AddPipe(uint64_t id, int r, int w) {
    auto pipe = std::make_shared<NotifyPipe>(id, -1, &RecordRelease);
    table_.Add(r, FdEntry{FdKind::kNotifyRead, {1, id}, nullptr, pipe});
    table_.Add(w, FdEntry{FdKind::kNotifyWrite, {1, id}, nullptr, pipe});
    return pipe;
  }

  // A close that succeeds, like close() on an open descriptor.
  Forgotten Close(int fd) {
    int rc = -1, err = 0;
    Forgotten gone = table_.Close(
        fd, [] { return 0; }, &rc, &err);
    EXPECT_EQ(rc, 0);
    return gone;
  }

  std::unique_ptr<FdTable> owned_ = std::make_unique<FdTable>();
  FdTable& table_ = *owned_;
  std::vector<uint64_t> released_;
};

TEST_F(FdTableTest, UnknownDescriptorsAreNone) {
  EXPECT_EQ(table_.Hint(-1), FdKind::kNone);
  EXPECT_EQ(table_.Hint(3), FdKind::kNone);
  EXPECT_EQ(table_.Hint(FdTable::kFastFds + 5), FdKind::kNone);
  EXPECT_EQ(table_.Get(3).kind, FdKind::kNone);
}

TEST_F(FdTableTest, DupOfDrmFileSharesItUntilTheLastClose) {
  auto file = std::make_shared<DrmFile>();
  table_.Add(5, FdEntry{FdKind::kDrm, {1, 2}, file, nullptr});
  int rc = 0, err = 0;
  table_.Dup(
      5, -1, [] { return 9; }, &rc, &err);
  ASSERT_EQ(rc, 9);
  EXPECT_EQ(table_.Hint(9), FdKind::kDrm);
  EXPECT_EQ(table_.Get(9).drm, file);
  EXPECT_EQ(table_.Get(9).identity, (FdIdentity{1, 2}));
  EXPECT_EQ(file.use_count(), 3);
  Close(5);
  EXPECT_EQ(table_.Hint(5), FdKind::kNone);
  EXPECT_EQ(table_.Get(9).drm, file);
  Close(9);
  EXPECT_EQ(file.use_count(), 1);
}

TEST_F(FdTableTest, LastWriteEndClosedMarksWritersGoneOnce) {
  auto pipe = AddPipe(7, 3, 4);
  int rc = 0, err = 0;
  table_.Dup(
      4, 10, [] { return 10; }, &rc, &err);  // dup2(4, 10)
  EXPECT_EQ(pipe->write_ends(), 2);
  EXPECT_EQ(pipe->read_ends(), 1);
  Forgotten first = Close(4);
  EXPECT_FALSE(first.last_writer);
  EXPECT_FALSE(pipe->writers_gone());
  Forgotten last = Close(10);
  EXPECT_TRUE(last.last_writer);
  EXPECT_TRUE(pipe->writers_gone());
  EXPECT_EQ(table_.Hint(3), FdKind::kNotifyRead);
}

TEST_F(FdTableTest, PipeIsReleasedWhenItsLastEndAndReferenceGo) {
  std::weak_ptr<NotifyPipe> weak = AddPipe(8, 3, 4);
  { Forgotten gone = Close(3); }
  EXPECT_TRUE(released_.empty());
  {
    Forgotten gone = Close(4);
    // The forgotten entry keeps the pipe alive until the caller drops it
    // (after the table's lock).
    EXPECT_FALSE(weak.expired());
    EXPECT_TRUE(released_.empty());
  }
  EXPECT_TRUE(weak.expired());
  EXPECT_THAT(released_, ::testing::ElementsAre(8u));
}

TEST_F(FdTableTest, Dup2OntoOurDescriptorForgetsWhatWasThere) {
  auto pipe = AddPipe(9, 3, 4);
  int rc = 0, err = 0;
  // dup2(0, 4): stdin (not ours) replaces the only write end.
  Forgotten gone = table_.Dup(
      0, 4, [] { return 4; }, &rc, &err);
  EXPECT_EQ(rc, 4);
  EXPECT_TRUE(gone.last_writer);
  EXPECT_EQ(gone.entry.kind, FdKind::kNotifyWrite);
  EXPECT_EQ(table_.Hint(4), FdKind::kNone);
  EXPECT_TRUE(pipe->writers_gone());
}

TEST_F(FdTableTest, Dup2OfDescriptorOntoItselfChangesNothing) {
  auto pipe = AddPipe(9, 3, 4);
  int rc = 0, err = 0;
  table_.Dup(
      4, 4, [] { return 4; }, &rc, &err);
  EXPECT_EQ(table_.Hint(4), FdKind::kNotifyWrite);
  EXPECT_EQ(pipe->write_ends(), 1);
}

TEST_F(FdTableTest, FailedDupKeepsTheTable) {
  auto pipe = AddPipe(9, 3, 4);
  int rc = 0, err = 0;
  table_.Dup(
      3, -1,
      [] {
        errno = EMFILE;
        return -1;
      },
      &rc, &err);
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EMFILE);
  EXPECT_EQ(pipe->read_ends(), 1);
  EXPECT_EQ(table_.Hint(3), FdKind::kNotifyRead);
}

TEST_F(FdTableTest, CloseForgetsTheNumberBeforeItIsFreeAndWhateverItReturns) {
  AddPipe(9, 3, 4);
  int rc = 0, err = 0;
  FdKind during = FdKind::kNotifyRead;
  // Linux frees the number even when close() reports EINTR or EIO.
  table_.Close(
      3,
      [&] {
        during = table_.Hint(3);
        errno = EINTR;
        return -1;
      },
      &rc, &err);
  EXPECT_EQ(during, FdKind::kNone);
  EXPECT_EQ(rc, -1);
  EXPECT_EQ(err, EINTR);
  EXPECT_EQ(table_.Hint(3), FdKind::kNone);
  // EBADF: it was not open at all, so the entry was stale.
  table_.Close(
      4,
      [] {
        errno = EBADF;
        return -1;
      },
      &rc, &err);
  EXPECT_EQ(err, EBADF);
  EXPECT_EQ(table_.Hint(4), FdKind::kNone);
}

TEST_F(FdTableTest, StaleEntryIsReplacedAndReturned) {
  auto pipe = AddPipe(9, 3, 4);
  // fd 4 was closed behind our back and the number reused by a new DRM fd.
  Forgotten stale = table_.Add(
      4, FdEntry{FdKind::kDrm, {5, 6}, std::make_shared<DrmFile>(), nullptr});
  EXPECT_EQ(stale.entry.kind, FdKind::kNotifyWrite);
  EXPECT_TRUE(stale.last_writer);
  EXPECT_EQ(table_.Hint(4), FdKind::kDrm);
}

TEST_F(FdTableTest, RemoveIfOnlyDropsTheSameFile) {
  AddPipe(9, 3, 4);
  EXPECT_EQ(table_.RemoveIf(3, FdIdentity{1, 10}).entry.kind, FdKind::kNone);
  EXPECT_EQ(table_.Hint(3), FdKind::kNotifyRead);
  EXPECT_EQ(table_.RemoveIf(3, FdIdentity{1, 9}).entry.kind,
            FdKind::kNotifyRead);
  EXPECT_EQ(table_.Hint(3), FdKind::kNone);
}

TEST_F(FdTableTest, DescriptorsBeyondTheFastRangeWork) {
  const int big = FdTable::kFastFds + 100;
  auto file = std::make_shared<DrmFile>();
  table_.Add(big, FdEntry{FdKind::kDrm, {1, 2}, file, nullptr});
  EXPECT_EQ(table_.Hint(big), FdKind::kDrm);
  EXPECT_EQ(table_.Hint(big + 1), FdKind::kNone);
  EXPECT_EQ(table_.Get(big).drm, file);
  Close(big);
  EXPECT_EQ(table_.Hint(big), FdKind::kNone);
}

TEST_F(FdTableTest, ConcurrentDupAndCloseKeepCountsExact) {
  auto pipe = AddPipe(11, 3, 4);
  constexpr int kThreads = 4, kRounds = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      const int fd = 100 + t;  // each thread dups onto its own number
      for (int i = 0; i < kRounds; ++i) {
        int rc = 0, err = 0;
        table_.Dup(
            4, fd, [fd] { return fd; }, &rc, &err);
        EXPECT_EQ(table_.Hint(3), FdKind::kNotifyRead);
        Close(fd);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(pipe->write_ends(), 1);
  EXPECT_FALSE(pipe->writers_gone());
}

}  // namespace
}  // namespace xehil::preload
