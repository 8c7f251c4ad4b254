// 64 agents in one test: status gives a complete table, every host up, and
// a pressure lease goes to all of them and back. The agents are in-process
// (64 processes would cost more than this 2-core machine should spend on
// one test); xehil-lab is the real binary.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/lab_controller.pb.h"
#include "tools/agent/testing/agent_test_util.h"
#include "tools/lab/testing/lab_test_util.h"

namespace xehil::lab {
namespace {

using agent::testing::InProcessAgent;
using ::testing::HasSubstr;
using testing::RunLab;

constexpr int kAgents = 64;

class SixtyFourAgents : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    agents_ = new std::vector<std::unique_ptr<InProcessAgent>>();
    std::vector<testing::TestHost> hosts;
    for (int i = 0; i < kAgents; ++i) {
      auto agent = std::make_unique<InProcessAgent>();
      absl::Status started = agent->Start();
      ASSERT_TRUE(started.ok()) << started;
      hosts.push_back({absl::StrCat("sim-", i),
                       agent->address(),
                       {absl::StrCat("rack=", i % 4)}});
      agents_->push_back(std::move(agent));
    }
    inventory_ = new std::string("--inventory=" +
                                 testing::WriteInventory("lab64", hosts));
  }
  static void TearDownTestSuite() {
    delete agents_;
    delete inventory_;
  }

  static std::vector<std::unique_ptr<InProcessAgent>>* agents_;
  static std::string* inventory_;
};

std::vector<std::unique_ptr<InProcessAgent>>* SixtyFourAgents::agents_;
std::string* SixtyFourAgents::inventory_;

TEST_F(SixtyFourAgents, StatusTableIsCompleteWithEveryHostUp) {
  process_testing::CommandResult r = RunLab({"status", *inventory_, "--require-all"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> lines =
      absl::StrSplit(r.output, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), kAgents + 2u) << r.output;
  for (int i = 0; i < kAgents; ++i) {
    EXPECT_THAT(lines[i + 1],
                ::testing::MatchesRegex(
                    absl::StrCat("sim-", i, " +127.0.0.1:[0-9]+ +up +sim .*")));
  }
  EXPECT_EQ(lines.back(), "64 hosts: 64 up");
}

TEST_F(SixtyFourAgents, FewerWorkersThanHostsStillReachEveryHost) {
  process_testing::CommandResult r =
      RunLab({"status", *inventory_, "--parallel=5", "--format=json"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  LabStatus status;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(r.output, &status).ok());
  ASSERT_EQ(status.hosts_size(), kAgents);
  for (int i = 0; i < kAgents; ++i) {
    EXPECT_EQ(status.hosts(i).host(), absl::StrCat("sim-", i));
    EXPECT_EQ(status.hosts(i).state(), "up");
  }
}

TEST_F(SixtyFourAgents, PressureOnEveryHostAndBack) {
  process_testing::CommandResult r = RunLab({"pressure", "acquire", *inventory_,
                                     "--hosts=all", "--bytes=8M", "--ttl=60s"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(testing::AcquiredLeaseIds(r.output).size(), size_t{kAgents});
  for (auto& agent : *agents_) {
    EXPECT_EQ(testing::UsedBytes(agent->stub(), 1), uint64_t{8} << 20);
  }
  r = RunLab({"pressure", "release", *inventory_, "--hosts=rack=*", "--all"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (auto& agent : *agents_) {
    EXPECT_EQ(testing::UsedBytes(agent->stub(), 1), 0u);
  }
}

}  // namespace
}  // namespace xehil::lab
