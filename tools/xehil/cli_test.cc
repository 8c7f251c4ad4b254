// Runs the xehil binary the way users do and checks exit codes and output.
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int exit_code = -1;
  std::string out;
};

CliRun Xehil(const std::string& args) {
  std::string cmd = "tools/xehil/xehil " + args + " 2>&1";
  CliRun run;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) run.out.append(buf, n);
  int status = pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

TEST(XehilCli, HelpExitsZeroAndListsCommands) {
  CliRun r = Xehil("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("demo"));
  EXPECT_THAT(r.out, HasSubstr("watch"));
  EXPECT_THAT(r.out, HasSubstr("info"));
}

TEST(XehilCli, UsageErrorsExitTwo) {
  EXPECT_EQ(Xehil("").exit_code, 2);
  EXPECT_EQ(Xehil("frobnicate").exit_code, 2);
  CliRun bad_flag = Xehil("demo --no_such_flag");
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.out, HasSubstr("unknown flag --no_such_flag"));
  EXPECT_EQ(Xehil("demo --vms=lots").exit_code, 2);
  EXPECT_EQ(Xehil("watch --backend=gpu").exit_code, 2);
  EXPECT_EQ(Xehil("watch --ring=0").exit_code, 2);
  EXPECT_EQ(Xehil("watch --format=xml").exit_code, 2);
}

TEST(XehilCli, UsageErrorsNameXehilAndPointAtHelp) {
  CliRun r = Xehil("watch --ring=0");
  EXPECT_THAT(r.out, HasSubstr("xehil: --ring must be between 1 and 512"));
  EXPECT_THAT(r.out, HasSubstr("(see `xehil --help`)"));
}

TEST(XehilCli, HelpOfAnUnknownCommandSaysUnknownAndExitsTwo) {
  CliRun r = Xehil("nosuch --help");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("unknown command 'nosuch'"));
  EXPECT_EQ(Xehil("watch --help").exit_code, 0);
  EXPECT_EQ(Xehil("vm-run --help").exit_code, 0);
}

TEST(XehilCli, WatchOnTheSimulatorStopsAfterCountEvents) {
  CliRun r = Xehil("watch --backend=sim --count=2 --format=json 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u) << r.out;
}

TEST(XehilCli, UnknownDeviceProfileIsAUsageError) {
  EXPECT_EQ(Xehil("demo --device-profile=nope").exit_code, 2);
  EXPECT_EQ(Xehil("sim-run --device-profile=nope -- /bin/true").exit_code, 2);
  EXPECT_EQ(Xehil("watch --device-profile=nope").exit_code, 2);
}

TEST(XehilCli, InfoOnTheSimulatorShowsRegionsAndWatchSupport) {
  CliRun r = Xehil("info --backend=sim --device-profile=bmg-12g");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("vram"));
  EXPECT_THAT(r.out, HasSubstr("watch queue: supported"));
}

TEST(XehilCli, InfoOnXeSaysWhatIsMissingOrDescribesTheDevice) {
  CliRun r = Xehil("info --backend=xe");
  // Either a real xe device answered, or the output names what is missing.
  if (r.exit_code != 0) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.out, HasSubstr("device:      unavailable:"));
    EXPECT_THAT(r.out, HasSubstr("watch queue:"));
  }
}

TEST(XehilCli, WatchOnTheSimulatorPrintsJsonLinesUntilTheFileCloses) {
  CliRun r = Xehil("watch --backend=sim --format=json --sim_errors=4");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> lines =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("\"event\":\"vm_err\""));
  EXPECT_THAT(lines[0], HasSubstr("\"errno\":\"ENOMEM\""));
  EXPECT_THAT(lines[1], HasSubstr("\"errno\":\"ENOSPC\""));
  EXPECT_THAT(lines[4], HasSubstr("\"event\":\"removed\""));
}

TEST(XehilCli, WatchRawWritesTheRecordBytesAsRead) {
  CliRun r = Xehil("watch --backend=sim --format=raw --sim_errors=2");
  ASSERT_EQ(r.exit_code, 0);
  // Two 24-byte VM_ERR records and the 8-byte removal record.
  ASSERT_EQ(r.out.size(), 24u + 24u + 8u);
  EXPECT_EQ(static_cast<uint8_t>(r.out[0]), 2);   // WATCH_TYPE_DRM_XE_NOTIFY
  EXPECT_EQ(static_cast<uint8_t>(r.out[4]), 24);  // length in info
  EXPECT_EQ(static_cast<uint8_t>(r.out[5]), 1);   // watch id
}

TEST(XehilCli, DemoExitsZeroWithEveryVmRecovered) {
  CliRun r = Xehil("demo --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("VMs healthy            40/40"));
}

std::string TmpPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

std::string WriteTmp(const std::string& name, const std::string& text) {
  std::string path = TmpPath(name);
  std::ofstream(path) << text;
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(XehilCli, ListShowsScenariosAndTheirChecks) {
  CliRun r = Xehil("list scenarios/transient_enomem.textproto");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("transient_enomem"));
  EXPECT_THAT(r.out, HasSubstr("checks"));
}

TEST(XehilCli, RunPassesAScenarioAndWritesJsonAndJunit) {
  const std::string json = TmpPath("r.json");
  const std::string xml = TmpPath("r.xml");
  CliRun r =
      Xehil("run scenarios/transient_enomem.textproto --report-json=" + json +
            " --junit=" + xml + " --repeat=2");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("2 scenario runs: 2 pass, 0 fail"));
  EXPECT_THAT(ReadFile(json), HasSubstr("RESULT_PASS"));
  EXPECT_THAT(ReadFile(xml), HasSubstr("<testcase"));
}

TEST(XehilCli, RunWritesTheLabPageForThisHost) {
  const std::string html = TmpPath("run.html");
  CliRun r = Xehil("run scenarios/transient_enomem.textproto --html=" + html);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const std::string page = ReadFile(html);
  EXPECT_THAT(page, HasSubstr("<tr class=\"host-row st-pass\">"));
  EXPECT_THAT(page, HasSubstr("transient_enomem"));
  EXPECT_THAT(page, HasSubstr("class=\"chart timeline\""));
  EXPECT_THAT(page, HasSubstr("</html>"));
}

TEST(XehilCli, RunSaysWhatAPathThatIsNotAFileIs) {
  const std::string fifo = TmpPath("scenario.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  CliRun r = Xehil("run " + fifo);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(fifo + ": a FIFO, not a scenario file"));
  r = Xehil("run /dev/zero");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("/dev/zero: a character device"));
  r = Xehil("run /nonexistent.textproto");
  EXPECT_THAT(r.out, HasSubstr("no such scenario file"));
}

TEST(XehilCli, RunChecksOutputDirectoriesBeforeRunning) {
  for (const std::string flag : {"--report-json", "--junit", "--html"}) {
    CliRun r = Xehil("run scenarios/transient_enomem.textproto " + flag +
                     "=/nonexistent/dir/out");
    EXPECT_EQ(r.exit_code, 2) << flag;
    EXPECT_THAT(r.out, HasSubstr("directory /nonexistent/dir does not exist"));
    EXPECT_THAT(r.out, Not(HasSubstr("[1/1]"))) << "the run started";
  }
}

TEST(XehilCli, RunExitsOneWhenAnExpectationFails) {
  std::string path = WriteTmp("wrong.textproto", R"pb(
    name: "wrong"
    device_profile: "lnl-igpu"
    setup {
      files {
        name: "app"
        watch { watch_id: 1 }
        vms { name: "vm" flags: VM_FLAG_LR_MODE flags: VM_FLAG_RESTARTABLE }
      }
    }
    expectations {
      name: "an error that never happens"
      within_ms: 50
      events_seen {
        type: EVENT_TYPE_VM_ERR
        count { min: 1 }
      }
    }
  )pb");
  CliRun r = Xehil("run " + path);
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.out, HasSubstr("FAIL"));
  EXPECT_THAT(r.out, HasSubstr("an error that never happens"));
}

TEST(XehilCli, RunNamesTheFileAndLineOfASyntaxError) {
  std::string path =
      WriteTmp("bad.textproto", "name: \"x\"\nsetup { filez {} }\n");
  CliRun r = Xehil("run " + path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.out, HasSubstr("bad.textproto:2"));
}

TEST(XehilCli, RunRefusesAValueThatWouldWrapWithItsFieldPath) {
  std::string path = WriteTmp("wrap.textproto", R"pb(
    name: "wrap"
    setup {
      files {
        name: "app"
        vms {
          name: "vm"
          bos { size_bytes: 18446744073709551615 }
        }
      }
    }
  )pb");
  CliRun r = Xehil("run " + path);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_THAT(r.out, HasSubstr("setup.files[0].vms[0].bos[0].size_bytes: "
                               "18446744073709551615 is above"));
}

TEST(XehilCli, RunAndListNeedFiles) {
  EXPECT_EQ(Xehil("run").exit_code, 2);
  EXPECT_EQ(Xehil("list").exit_code, 2);
  EXPECT_EQ(Xehil("run /nonexistent.textproto").exit_code, 1);
}

}  // namespace
