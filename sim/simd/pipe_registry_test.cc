#include "sim/simd/pipe_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace xehil::simd {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    read_end = UniqueFd(fds[0]);
    write_end = UniqueFd(fds[1]);
  }
  UniqueFd Dup() const {
    return UniqueFd(::fcntl(write_end.get(), F_DUPFD_CLOEXEC, 0));
  }
  UniqueFd read_end, write_end;
};

TEST(PipeRegistry, IdsAreUniqueAndFindGivesTheQueue) {
  PipeRegistry pipes;
  Pipe a, b;
  absl::StatusOr<uint64_t> first = pipes.Register(a.Dup(), 1, 10);
  absl::StatusOr<uint64_t> second = pipes.Register(b.Dup(), 2, 20);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(*first, *second);
  EXPECT_GT(*first, 0u);
  std::shared_ptr<const PipeRegistry::Entry> entry = pipes.Find(*first);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->queue->Refers(a.read_end.get()));
  EXPECT_TRUE(entry->queue->Refers(entry->probe.get()));
  EXPECT_EQ(entry->pid, 10u);
  EXPECT_EQ(pipes.Find(12345), nullptr);
  EXPECT_EQ(pipes.List().size(), 2u);
  EXPECT_EQ(pipes.registered_total(), 2u);
}

TEST(PipeRegistry, TheSamePipeTwiceSharesOneQueue) {
  PipeRegistry pipes;
  Pipe a;
  uint64_t first = *pipes.Register(a.Dup(), 1, 10);
  ASSERT_EQ(pipes.Find(first)->queue->SetSize(32), 0);
  uint64_t again = *pipes.Register(a.Dup(), 1, 10);
  EXPECT_NE(first, again);
  EXPECT_EQ(pipes.Find(again)->queue, pipes.Find(first)->queue);
  EXPECT_EQ(pipes.Find(again)->queue->SetSize(32), -EBUSY);

  // Released, but still held (as a watch would): re-registering finds it.
  std::shared_ptr<sim::NotificationQueue> held = pipes.Find(first)->queue;
  pipes.ReleaseAll(1);
  EXPECT_EQ(pipes.Find(first), nullptr);
  uint64_t third = *pipes.Register(a.Dup(), 3, 30);
  EXPECT_EQ(pipes.Find(third)->queue, held);
}

TEST(PipeRegistry, RejectsNonPipesAndReadEnds) {
  PipeRegistry pipes;
  Pipe a;
  EXPECT_EQ(pipes.Register(UniqueFd(), 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(pipes.Register(UniqueFd(::open("/dev/null", O_WRONLY)), 1, 1)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  UniqueFd read_dup(::fcntl(a.read_end.get(), F_DUPFD_CLOEXEC, 0));
  EXPECT_EQ(pipes.Register(std::move(read_dup), 1, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A read end of a pipe already registered is refused too.
  ASSERT_TRUE(pipes.Register(a.Dup(), 1, 1).ok());
  UniqueFd read_again(::fcntl(a.read_end.get(), F_DUPFD_CLOEXEC, 0));
  EXPECT_FALSE(pipes.Register(std::move(read_again), 1, 1).ok());
}

TEST(PipeRegistry, OnlyTheOwnerReleasesAndReleaseClosesTheDaemonsEnds) {
  PipeRegistry pipes;
  Pipe a;
  uint64_t id = *pipes.Register(a.Dup(), 7, 1);
  EXPECT_FALSE(pipes.Release(id, 8));
  EXPECT_NE(pipes.Find(id), nullptr);
  EXPECT_TRUE(pipes.Release(id, 7));
  EXPECT_FALSE(pipes.Release(id, 7));
  // With the queue gone too, only our write end is left: closing it is EOF.
  a.write_end.reset();
  char c;
  EXPECT_EQ(::read(a.read_end.get(), &c, 1), 0);
}

TEST(PipeRegistry, FindOwnedHidesAnotherConnectionsPipe) {
  PipeRegistry pipes;
  Pipe a;
  uint64_t id = *pipes.Register(a.Dup(), 7, 1);
  EXPECT_NE(pipes.FindOwned(id, 7), nullptr);
  EXPECT_EQ(pipes.FindOwned(id, 8), nullptr);
  EXPECT_EQ(pipes.FindOwned(id + 1, 7), nullptr);
}

}  // namespace
}  // namespace xehil::simd
