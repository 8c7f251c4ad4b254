#include "sim/simd/caller_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "gtest/gtest.h"

namespace xehil::simd {
namespace {

uint64_t Address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(CallerMemory, ReadsAndWritesAProcessRange) {
  std::vector<uint8_t> theirs = {1, 2, 3, 4, 5};
  std::vector<uint8_t> mine(5);
  ASSERT_EQ(ReadCallerMemory(getpid(), Address(theirs.data()), mine.data(),
                             mine.size()),
            0);
  EXPECT_EQ(mine, theirs);
  const uint8_t update[3] = {9, 8, 7};
  ASSERT_EQ(WriteCallerMemory(getpid(), Address(theirs.data() + 1), update, 3),
            0);
  EXPECT_EQ(theirs, (std::vector<uint8_t>{1, 9, 8, 7, 5}));
}

TEST(CallerMemory, AnUnmappedOrHalfMappedRangeIsEfault) {
  const long page = sysconf(_SC_PAGESIZE);
  void* two = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(two, MAP_FAILED);
  auto* base = static_cast<uint8_t*>(two);
  ASSERT_EQ(munmap(base + page, page), 0);
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(ReadCallerMemory(getpid(), Address(base + page), buffer.data(),
                             buffer.size()),
            -EFAULT);
  // The first half is copied, the rest faults: still a failure.
  EXPECT_EQ(ReadCallerMemory(getpid(), Address(base + page - 8), buffer.data(),
                             buffer.size()),
            -EFAULT);
  EXPECT_EQ(WriteCallerMemory(getpid(), Address(base + page - 8), buffer.data(),
                              buffer.size()),
            -EFAULT);
  munmap(base, page);
}

TEST(CallerMemory, AProcessThatIsGoneIsEsrch) {
  std::vector<uint8_t> buffer(4);
  // Pid numbers above pid_max are never in use.
  EXPECT_EQ(ReadCallerMemory(1 << 30, Address(buffer.data()), buffer.data(),
                             buffer.size()),
            -ESRCH);
}

}  // namespace
}  // namespace xehil::simd
