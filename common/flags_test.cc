#include "common/flags.h"

#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int, test_count, 1, "count");
ABSL_FLAG(bool, test_verbose, false, "verbose");
ABSL_FLAG(std::string, test_name, "", "name");

namespace xehil {
namespace {

using ::testing::ElementsAre;

absl::StatusOr<std::vector<std::string>> Parse(std::vector<const char*> argv) {
  argv.insert(argv.begin(), "prog");
  return ParseFlags(static_cast<int>(argv.size()), argv.data());
}

TEST(Flags, SetsFlagsAndKeepsPositionalsInOrder) {
  auto args = Parse({"run", "--test_count=3", "a", "--test_verbose",
                     "--test_name", "x", "b"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_THAT(*args, ElementsAre("run", "a", "b"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_count), 3);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "x");
}

TEST(Flags, NegatesBoolFlagsAndStopsAtDoubleDash) {
  auto args = Parse({"--notest_verbose", "--", "--test_count=9", "-x"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_FALSE(absl::GetFlag(FLAGS_test_verbose));
  EXPECT_THAT(*args, ElementsAre("--test_count=9", "-x"));
}

TEST(Flags, RejectsUnknownFlagsAndBadValues) {
  EXPECT_EQ(Parse({"--no_such_flag"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto bad = Parse({"--test_count=many"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("--test_count=many"));
  EXPECT_EQ(Parse({"--test_name"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Flags, HyphensInNamesReadAsUnderscores) {
  auto args = Parse({"--test-name=dashed"});
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_test_name), "dashed");
}

TEST(Flags, HelpIsReportedSeparately) {
  EXPECT_EQ(Parse({"--help"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Parse({"-h"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(Flags, UsageErrorsNameTheBinaryAndPointAtHelp) {
  EXPECT_EXIT(UsageError("--ring must be positive"),
              ::testing::ExitedWithCode(kExitUsage),
              "^flags_test: --ring must be positive\n"
              "\\(see `flags_test --help`\\)\n$");
}

TEST(Flags, HelpAfterAnUnknownCommandIsAUsageError) {
  const std::vector<std::string> commands = {"run", "watch"};
  const char* unknown[] = {"xehil", "--test_name", "run", "vm-run", "--help"};
  EXPECT_EXIT(ParseFlagsOrExit(5, unknown, "usage: xehil\n", commands),
              ::testing::ExitedWithCode(kExitUsage),
              "unknown command 'vm-run'");
  const char* known[] = {"xehil", "--test_name", "x", "watch", "--help"};
  EXPECT_EXIT(ParseFlagsOrExit(5, known, "usage: xehil\n", commands),
              ::testing::ExitedWithCode(0), "");
  const char* no_command[] = {"xehil", "--help", "--", "-"};
  EXPECT_EXIT(ParseFlagsOrExit(4, no_command, "usage: xehil\n", commands),
              ::testing::ExitedWithCode(0), "");
  const char* dash[] = {"xehil", "-", "--help"};
  EXPECT_EXIT(ParseFlagsOrExit(3, dash, "usage: xehil\n", commands),
              ::testing::ExitedWithCode(kExitUsage), "unknown command '-'");
}

}  // namespace
}  // namespace xehil
