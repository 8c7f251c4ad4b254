#include "core/watch/events.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace xehil {
namespace {

TEST(DescribeEvent, VmErrorNamesTheErrno) {
  EXPECT_EQ(DescribeEvent(VmError{3, -ENOMEM, 123, 1}),
            "VM_ERR vm=3 error=-ENOMEM ts=123 watch=1");
}

TEST(DescribeEvent, VmErrorShowsAPositiveErrorAsIs) {
  EXPECT_EQ(DescribeEvent(VmError{1, ENOSPC, 0, 0}),
            "VM_ERR vm=1 error=+ENOSPC ts=0 watch=0");
  EXPECT_EQ(DescribeEvent(VmError{1, 0, 0, 0}),
            "VM_ERR vm=1 error=0 ts=0 watch=0");
}

TEST(DescribeEvent, RemovedShowsTheIdOnlyWhenPresent) {
  EXPECT_EQ(DescribeEvent(Removed{7, std::nullopt}), "REMOVED watch=7");
  EXPECT_EQ(DescribeEvent(Removed{255, 42}), "REMOVED watch=255 id=42");
}

TEST(DescribeEvent, LostAndUnknown) {
  EXPECT_EQ(DescribeEvent(Lost{}), "LOST");
  EXPECT_EQ(DescribeEvent(Unknown{9, 4, 2, 16}),
            "UNKNOWN type=9 subtype=4 watch=2 len=16");
}

}  // namespace
}  // namespace xehil
