#include <gtest/gtest.h>

TEST(Pass, One) { EXPECT_EQ(1, 1); }
TEST(Pass, Two) { EXPECT_EQ(2, 2); }
