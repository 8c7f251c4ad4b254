// Three cases that compile only with -DSTALE_GOOD.
#include <gtest/gtest.h>

#ifndef STALE_GOOD
#error "compile_error_test compiles only with --config=stale"
#endif

TEST(Compiles, One) {}
TEST(Compiles, Two) {}
TEST(Compiles, Three) {}
