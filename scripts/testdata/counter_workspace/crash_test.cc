// Four cases; the second aborts unless built with -DSTALE_GOOD.
#include <gtest/gtest.h>

#include <cstdlib>

#ifdef CRASH_BEFORE_MAIN
static const int kCrash = (std::abort(), 0);
#endif

TEST(Crash, First) {}
TEST(Crash, Second) {
#ifndef STALE_GOOD
  std::abort();
#endif
}
TEST(Crash, Third) {}
TEST(Crash, Fourth) {}
