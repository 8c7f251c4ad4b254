// xehil-lab's command line: help for every command, exit 2 with a clear
// message for bad input, before any host is contacted.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/testing/lab_test_util.h"

namespace xehil::lab {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunLab;

TEST(LabCli, EveryCommandHasHelp) {
  process_testing::CommandResult main = RunLab({"--help"});
  EXPECT_EQ(main.exit_code, 0);
  EXPECT_THAT(main.output, HasSubstr("usage: xehil-lab COMMAND"));
  EXPECT_THAT(main.output, HasSubstr("host selectors"));
  for (const char* command : {"status", "pressure", "run", "watch"}) {
    process_testing::CommandResult help = RunLab({command, "--help"});
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.output,
                HasSubstr(std::string("usage: xehil-lab ") + command))
        << command;
    EXPECT_EQ(RunLab({"help", command}).output, help.output);
  }
  EXPECT_THAT(RunLab({"pressure", "acquire", "--help"}).output,
              HasSubstr("--hold[=D]"));
}

// `args` fails with exit 2 and `message` on stderr.
void ExpectUsageError(std::vector<std::string> args,
                      const std::string& message) {
  process_testing::CommandResult r = RunLab(args);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_THAT(r.output, HasSubstr(message));
  EXPECT_THAT(r.output, Not(HasSubstr("Sanitizer")));
}

TEST(LabCli, BadInputIsAUsageError) {
  testing::DeadPort dead;
  const std::string inv =
      "--inventory=" +
      testing::WriteInventory("cli", {{"a", dead.address(), {"sim"}}});
  ExpectUsageError({}, "missing command");
  ExpectUsageError({"launch"}, "unknown command 'launch'");
  ExpectUsageError({"status", "--no-such-flag"}, "unknown flag");
  ExpectUsageError({"status"}, "no inventory");
  ExpectUsageError({"status", "--inventory=/nonexistent.textproto"},
                   "/nonexistent.textproto");
  ExpectUsageError({"status", inv, "--hosts=b"},
                   "'b' is neither a host nor a label key");
  ExpectUsageError({"status", inv, "--hosts=sim=1"}, "matches no host");
  ExpectUsageError({"status", inv, "--format=xml"}, "table or json");
  ExpectUsageError({"status", inv, "--bytes=1M"},
                   "--bytes does not apply to status");
  ExpectUsageError({"status", inv, "--parallel=0"}, "--parallel");
  ExpectUsageError({"status", inv, "--deadline=soon"}, "--deadline=soon");
  ExpectUsageError({"pressure", inv}, "acquire, renew or release");
  ExpectUsageError({"pressure", "take", inv}, "unknown pressure action");
  ExpectUsageError({"pressure", "acquire", inv, "--bytes=1M"},
                   "--hosts=SELECTOR is required");
  ExpectUsageError({"pressure", "acquire", inv, "--hosts=all"},
                   "one of --bytes=SIZE and --fraction=F");
  ExpectUsageError({"pressure", "acquire", inv, "--hosts=all", "--bytes=1M",
                    "--fraction=.5"},
                   "one of --bytes=SIZE and --fraction=F");
  ExpectUsageError({"pressure", "acquire", inv, "--hosts=all", "--fraction=2"},
                   "(0, 1]");
  ExpectUsageError({"pressure", "acquire", inv, "--hosts=all", "--bytes=lots"},
                   "--bytes=lots");
  ExpectUsageError({"pressure", "acquire", inv, "--hosts=all", "--bytes=1M",
                    "--provider=gpu"},
                   "sim, sysmem or xe-vram");
  ExpectUsageError(
      {"pressure", "acquire", inv, "--hosts=all", "--bytes=1M", "--hold=-1s"},
      "--hold=-1s");
  ExpectUsageError({"pressure", "renew", inv, "--hosts=all", "--ttl=1s"},
                   "renew needs --lease");
  ExpectUsageError({"pressure", "release", inv, "--hosts=all"},
                   "--lease=ID[,ID...] and --all");
  ExpectUsageError(
      {"pressure", "release", inv, "--hosts=all", "--bytes=1M", "--all"},
      "--bytes applies to pressure acquire only");
  ExpectUsageError({"run", inv, "--hosts=all"}, "run needs scenario files");
  ExpectUsageError({"run", inv, "--hosts=all", "/nonexistent.textproto"},
                   "/nonexistent.textproto");
  ExpectUsageError({"run", inv, "--hosts=all", "--repeat=0",
                    "scenarios/transient_enomem.textproto"},
                   "--repeat");
  ExpectUsageError({"watch", inv, "--count=-1"}, "--count");
  ExpectUsageError({"watch", inv, "extra"}, "unexpected argument 'extra'");
}

TEST(LabCli, InventoryErrorsNameTheLine) {
  const std::string path = testing::WriteInventory(
      "broken", {{"a", "127.0.0.1:1"}, {"a", "127.0.0.1:2"}});
  ExpectUsageError({"status", "--inventory=" + path},
                   path + ":2:9: duplicate host name 'a'");
}

}  // namespace
}  // namespace xehil::lab
