// xehil-lab pressure against real agent processes: leases change the sim
// device's usage; held leases die with the controller; TTLs are kept.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/testing/lab_test_util.h"

namespace xehil::lab {
namespace {

using testing::AgentProcess;
using process_testing::ChildProcess;
using ::testing::HasSubstr;
using testing::kLongWait;
using ::testing::Not;
using testing::RunLab;
using ::testing::SizeIs;
using testing::UsedBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint32_t kVram = 1;

class LabPressure : public ::testing::Test {
 protected:
  void Start(int n, const std::vector<std::string>& second_args = {}) {
    std::vector<testing::TestHost> hosts;
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<AgentProcess> agent = testing::StartAgentProcess(
          i == 1 ? second_args : std::vector<std::string>{});
      ASSERT_TRUE(agent.ok()) << agent.status();
      hosts.push_back({"sim-" + std::to_string(i), agent->address, {"sim"}});
      agents_.push_back(*std::move(agent));
    }
    inventory_ = "--inventory=" + testing::WriteInventory("pressure", hosts);
  }
  void TearDown() override {
    for (AgentProcess& a : agents_) {
      EXPECT_THAT(a.process->StderrText(), Not(HasSubstr("Sanitizer")));
    }
  }
  process_testing::CommandResult Lab(std::vector<std::string> args) {
    args.push_back(inventory_);
    return RunLab(args);
  }
  // Starts `xehil-lab pressure acquire --hold ...` and reads its output up
  // to the "holding" line; returns the lease ids it printed.
  std::vector<std::string> StartHold(std::vector<std::string> args) {
    args.insert(args.begin(), {"pressure", "acquire", inventory_});
    absl::StatusOr<std::unique_ptr<ChildProcess>> lab = testing::StartLab(args);
    EXPECT_TRUE(lab.ok()) << lab.status();
    if (!lab.ok()) return {};
    holder_ = *std::move(lab);
    std::string output;
    for (;;) {
      std::optional<std::string> line = holder_->NextStdoutLine(kLongWait);
      if (!line.has_value()) {
        ADD_FAILURE() << output << holder_->StderrText();
        return {};
      }
      output += *line + "\n";
      if (absl::StartsWith(*line, "holding ")) break;
    }
    return testing::AcquiredLeaseIds(output);
  }

  std::vector<AgentProcess> agents_;
  std::string inventory_;
  std::unique_ptr<ChildProcess> holder_;
};

TEST_F(LabPressure, AcquireRenewReleaseChangeTheSimulatedUsage) {
  Start(2);
  process_testing::CommandResult acquired =
      Lab({"pressure", "acquire", "--hosts=all", "--provider=sim",
           "--bytes=64MiB", "--region=1", "--ttl=60s"});
  ASSERT_EQ(acquired.exit_code, 0) << acquired.output;
  std::vector<std::string> ids = testing::AcquiredLeaseIds(acquired.output);
  ASSERT_THAT(ids, SizeIs(2)) << acquired.output;
  EXPECT_THAT(acquired.output, HasSubstr("sim-0 | acquired "));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 64 * kMiB);
  EXPECT_EQ(UsedBytes(*agents_[1].stub, kVram), 64 * kMiB);

  process_testing::CommandResult renewed =
      Lab({"pressure", "renew", "--hosts=all",
           "--lease=" + ids[0] + "," + ids[1], "--ttl=5m"});
  ASSERT_EQ(renewed.exit_code, 0) << renewed.output;
  EXPECT_THAT(renewed.output, HasSubstr("sim-1 | renewed " + ids[1]));
  EXPECT_TRUE(agents_[0].process->WaitForStderr(
      {"\"event\":\"renewed\"", ids[0]}, kLongWait));

  process_testing::CommandResult released =
      Lab({"pressure", "release", "--hosts=all", "--lease=" + ids[0]});
  ASSERT_EQ(released.exit_code, 0) << released.output;
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 0u);
  EXPECT_EQ(UsedBytes(*agents_[1].stub, kVram), 64 * kMiB);

  // An id no host knows any more is an error.
  EXPECT_EQ(Lab({"pressure", "release", "--hosts=all", "--lease=" + ids[0]})
                .exit_code,
            1);
  process_testing::CommandResult all =
      Lab({"pressure", "release", "--hosts=all", "--all"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  EXPECT_THAT(all.output, HasSubstr("sim-0 | no leases"));
  EXPECT_THAT(all.output, HasSubstr("sim-1 | released " + ids[1]));
  EXPECT_EQ(UsedBytes(*agents_[1].stub, kVram), 0u);
}

TEST_F(LabPressure, AcquireIsAllOrNothingAcrossHosts) {
  Start(2, {"--max-sim-bytes=32M"});
  process_testing::CommandResult r =
      Lab({"pressure", "acquire", "--hosts=all", "--bytes=64M", "--ttl=60s"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("sim-1 | error: RESOURCE_EXHAUSTED"));
  EXPECT_THAT(r.output, HasSubstr("another host refused"));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 0u);
}

TEST_F(LabPressure, HeldLeaseIsReleasedAtOnceWhenTheControllerIsKilled) {
  Start(1);
  std::vector<std::string> ids =
      StartHold({"--hosts=sim-0", "--bytes=256M", "--region=1", "--hold"});
  ASSERT_THAT(ids, SizeIs(1));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 256 * kMiB);
  const absl::Time killed = absl::Now();
  holder_->Signal(SIGKILL);
  EXPECT_EQ(holder_->WaitExit(kLongWait), 128 + SIGKILL);
  ASSERT_TRUE(agents_[0].process->WaitForStderr(
      {"\"event\":\"released\"", ids[0], "\"reason\":\"stream-dropped\""},
      kLongWait))
      << agents_[0].process->StderrText();
  // At once: the dropped connection, not a TTL (here the agent's maximum).
  EXPECT_LT(absl::Now() - killed, absl::Seconds(5));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 0u);
}

TEST_F(LabPressure, HoldEndsOnSigtermAndReleasesEveryLease) {
  Start(2);
  std::vector<std::string> ids =
      StartHold({"--hosts=all", "--bytes=32M", "--hold"});
  ASSERT_THAT(ids, SizeIs(2));
  EXPECT_EQ(UsedBytes(*agents_[1].stub, kVram), 32 * kMiB);
  holder_->Signal(SIGTERM);
  EXPECT_EQ(holder_->WaitExit(kLongWait), 0)
      << holder_->StdoutText() << holder_->StderrText();
  EXPECT_THAT(holder_->StdoutText(), HasSubstr("stopping (SIGTERM)"));
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(agents_[i].process->WaitForStderr(
        {"\"event\":\"released\"", ids[i]}, kLongWait));
    EXPECT_EQ(UsedBytes(*agents_[i].stub, kVram), 0u);
  }
}

TEST_F(LabPressure, HoldForADurationEndsByItself) {
  Start(1);
  process_testing::CommandResult r = Lab(
      {"pressure", "acquire", "--hosts=all", "--bytes=16M", "--hold=300ms"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("stopping (hold duration over)"));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 0u);
}

TEST_F(LabPressure, TtlLeaseIsReleasedWithinTtlPlusOneSecond) {
  Start(1);
  constexpr absl::Duration kTtl = absl::Seconds(2);
  const absl::Time started = absl::Now();
  process_testing::CommandResult r =
      Lab({"pressure", "acquire", "--hosts=all", "--bytes=16M", "--ttl=2s"});
  const absl::Time exited = absl::Now();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> ids = testing::AcquiredLeaseIds(r.output);
  ASSERT_THAT(ids, SizeIs(1));
  // It outlives its controller (not bound to a stream) and ends by TTL...
  ASSERT_TRUE(agents_[0].process->WaitForStderr(
      {"\"event\":\"released\"", ids[0], "\"reason\":\"ttl\""}, kLongWait));
  const absl::Time released = absl::Now();
  // ... until its TTL: granted after `started`, ended by `exited` + TTL + 1s.
  EXPECT_LE(released - exited, kTtl + absl::Seconds(1));
  EXPECT_GE(released - started, kTtl - absl::Milliseconds(50));
  EXPECT_EQ(UsedBytes(*agents_[0].stub, kVram), 0u);
}

}  // namespace
}  // namespace xehil::lab
