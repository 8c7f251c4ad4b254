// xehil-lab status against real agent processes, one host down.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/lab_controller.pb.h"
#include "tools/lab/testing/lab_test_util.h"

namespace xehil::lab {
namespace {

using testing::AgentProcess;
using testing::DeadPort;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;
using testing::RunLab;

class LabStatus3 : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* profile : {"dg2-16g", "bmg-12g"}) {
      absl::StatusOr<AgentProcess> agent = testing::StartAgentProcess(
          {std::string("--device-profile=") + profile});
      ASSERT_TRUE(agent.ok()) << agent.status();
      agents_.push_back(*std::move(agent));
    }
    inventory_ = testing::WriteInventory(
        "status3", {{"sim-a", agents_[0].address, {"sim", "rack=a"}},
                    {"sim-b", agents_[1].address, {"sim", "rack=b"}},
                    {"gone", dead_.address(), {"rack=b"}}});
  }
  void TearDown() override {
    for (AgentProcess& a : agents_) {
      EXPECT_THAT(a.process->StderrText(), Not(HasSubstr("Sanitizer")));
    }
  }

  std::vector<AgentProcess> agents_;
  DeadPort dead_;
  std::string inventory_;
};

TEST_F(LabStatus3, TableHasEveryHostAndTheDownOneIsARowNotAFailure) {
  process_testing::CommandResult r = RunLab({"status", "--inventory=" + inventory_});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> lines =
      absl::StrSplit(r.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 5u) << r.output;  // header, 3 hosts, count
  EXPECT_THAT(lines[0],
              MatchesRegex("HOST +ADDRESS +STATE +BACKEND +DEVICE.*"));
  EXPECT_THAT(lines[1], MatchesRegex("sim-a +127.0.0.1:[0-9]+ +up +sim +.*"
                                     "dg2-16g.* 0:0/.* 1:0/16G +0 +sim.*"));
  EXPECT_THAT(lines[2], MatchesRegex("sim-b .* up +sim .*bmg-12g.*"));
  EXPECT_THAT(lines[3],
              MatchesRegex("gone +127.0.0.1:[0-9]+ +UNAVAILABLE +- +.*"
                           "\\(after 3 attempts\\)"));
  EXPECT_EQ(lines[4], "3 hosts: 2 up, 1 down");
}

TEST_F(LabStatus3, RequireAllFailsWhenAHostIsDown) {
  EXPECT_EQ(RunLab({"status", "--inventory=" + inventory_, "--require-all"})
                .exit_code,
            1);
  EXPECT_EQ(RunLab({"status", "--inventory=" + inventory_, "--require-all",
                    "--hosts=sim"})
                .exit_code,
            0);
}

TEST_F(LabStatus3, JsonIsALabStatusWithAttemptsAndErrors) {
  process_testing::CommandResult r =
      RunLab({"status", "--inventory=" + inventory_, "--format=json",
              "--attempts=2", "--hosts=rack=b"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  LabStatus status;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.output, &status).ok())
      << r.output;
  ASSERT_EQ(status.hosts_size(), 2);
  EXPECT_EQ(status.selector(), "rack=b");
  EXPECT_EQ(status.hosts(0).host(), "sim-b");
  EXPECT_EQ(status.hosts(0).state(), "up");
  EXPECT_EQ(status.hosts(0).attempts(), 1u);
  EXPECT_EQ(status.hosts(0).info().backend(), "sim");
  EXPECT_EQ(status.hosts(0).info().regions_size(), 2);
  EXPECT_EQ(status.hosts(1).host(), "gone");
  EXPECT_EQ(status.hosts(1).state(), "UNAVAILABLE");
  EXPECT_EQ(status.hosts(1).attempts(), 2u);
  EXPECT_FALSE(status.hosts(1).error().empty());
  EXPECT_FALSE(status.hosts(1).has_info());
}

}  // namespace
}  // namespace xehil::lab
