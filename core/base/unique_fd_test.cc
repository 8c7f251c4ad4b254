#include "core/base/unique_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace xehil {
namespace {

bool IsOpen(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

TEST(UniqueFd, ClosesOnDestruction) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  { UniqueFd r(fds[0]), w(fds[1]); }
  EXPECT_FALSE(IsOpen(fds[0]));
  EXPECT_FALSE(IsOpen(fds[1]));
}

TEST(UniqueFd, MoveTransfersOwnershipAndReleaseGivesItUp) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd a(fds[0]);
  UniqueFd b(std::move(a));
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(b.get(), fds[0]);
  int raw = b.release();
  EXPECT_FALSE(b.valid());
  EXPECT_TRUE(IsOpen(raw));
  ::close(raw);
  UniqueFd w(fds[1]);
  w.reset();
  EXPECT_FALSE(IsOpen(fds[1]));
}

}  // namespace
}  // namespace xehil
