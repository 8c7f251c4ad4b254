#include "tools/lab/output.h"

#include <sstream>

#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

TEST(HumanBytes, ExactUnitsAndOneDecimal) {
  EXPECT_EQ(HumanBytes(0), "0");
  EXPECT_EQ(HumanBytes(512), "512");
  EXPECT_EQ(HumanBytes(64 << 10), "64K");
  EXPECT_EQ(HumanBytes(uint64_t{16} << 30), "16G");
  EXPECT_EQ(HumanBytes(uint64_t{3} << 29), "1.5G");
  EXPECT_EQ(HumanBytes((uint64_t{64} << 20) + 1), "64.0M");
}

TEST(LinePrinter, AlignsHostPrefixes) {
  std::ostringstream out;
  LinePrinter printer(out, 6);
  printer.Host("a", "one");
  printer.Host("sim-10", "two");
  printer.Line("done");
  EXPECT_EQ(out.str(), "a      | one\nsim-10 | two\ndone\n");
}

TEST(Clip, MarksTheCut) {
  EXPECT_EQ(Clip("abcdef", 10), "abcdef");
  EXPECT_EQ(Clip("abcdefghijk", 8), "abcde...");
}

}  // namespace
}  // namespace xehil::lab
