// xehil-lab run and watch against real agent processes.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "environment/testing.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/lab_controller.pb.h"
#include "tools/agent/testing/test_certs.h"
#include "tools/lab/testing/lab_test_util.h"

namespace xehil::lab {
namespace {

using testing::AgentProcess;
using process_testing::ChildProcess;
using ::testing::HasSubstr;
using testing::kLongWait;
using ::testing::Not;
using testing::RunLab;

const std::vector<std::string> kScenarios = {
    "scenarios/transient_enomem.textproto",
    "scenarios/eagain_within_bound.textproto",
};

class LabRun2 : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<AgentProcess> agent = testing::StartAgentProcess();
      ASSERT_TRUE(agent.ok()) << agent.status();
      agents_.push_back(*std::move(agent));
    }
    tmp_ = std::getenv("TEST_TMPDIR");
  }
  void TearDown() override {
    for (AgentProcess& a : agents_) {
      EXPECT_THAT(a.process->StderrText(), Not(HasSubstr("Sanitizer")));
    }
  }
  std::string Inventory(const std::string& extra_address = "") {
    std::vector<testing::TestHost> hosts = {{"lab-a", agents_[0].address},
                                            {"lab-b", agents_[1].address}};
    if (!extra_address.empty()) hosts.push_back({"lab-gone", extra_address});
    return "--inventory=" + testing::WriteInventory("run", hosts);
  }
  LabRun ReadLabRun(const std::string& path) {
    LabRun run;
    const std::string json = agent::testing::ReadFileOrEmpty(path);
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(json, &run).ok())
        << json;
    return run;
  }

  std::vector<AgentProcess> agents_;
  std::string tmp_;
};

TEST_F(LabRun2, RemoteRunsGiveTheSameReportsAsLocalRuns) {
  const std::string json = tmp_ + "/lab.json", junit = tmp_ + "/lab.xml",
                    html = tmp_ + "/lab.html";
  std::vector<std::string> args = {"run",
                                   Inventory(),
                                   "--hosts=all",
                                   "--isolated-device",
                                   "--report-json=" + json,
                                   "--junit=" + junit,
                                   "--html=" + html};
  args.insert(args.end(), kScenarios.begin(), kScenarios.end());
  process_testing::CommandResult r = RunLab(args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("lab-a | [1/2] transient_enomem"));
  EXPECT_THAT(r.output, HasSubstr("lab-b | transient_enomem: PASS"));
  EXPECT_THAT(r.output, HasSubstr("4 scenario runs on 2 hosts: 4 pass"));

  LabRun run = ReadLabRun(json);
  ASSERT_EQ(run.hosts_size(), 2);
  EXPECT_EQ(run.selector(), "all");
  EXPECT_THAT(run.scenarios(), ::testing::ElementsAreArray(kScenarios));
  for (const HostRun& host : run.hosts()) {
    EXPECT_EQ(host.error(), "") << host.host();
    EXPECT_EQ(host.backend(), "sim");
    ASSERT_EQ(host.reports_size(), 2) << host.host();
    for (int i = 0; i < 2; ++i) {
      absl::StatusOr<Report> local = RunScenarioFileOnSim(kScenarios[i]);
      ASSERT_TRUE(local.ok()) << local.status();
      const Report& remote = host.reports(i);
      EXPECT_EQ(remote.scenario(), local->scenario());
      EXPECT_EQ(remote.source(), kScenarios[i]);
      EXPECT_EQ(remote.result(), local->result()) << remote.reason();
      EXPECT_EQ(remote.device(), local->device());
      ASSERT_EQ(remote.expectations_size(), local->expectations_size());
      for (int e = 0; e < remote.expectations_size(); ++e) {
        EXPECT_EQ(remote.expectations(e).name(), local->expectations(e).name());
        EXPECT_EQ(remote.expectations(e).result(),
                  local->expectations(e).result());
      }
      EXPECT_EQ(remote.restarts().tried(), local->restarts().tried());
      EXPECT_EQ(remote.restarts().succeeded(), local->restarts().succeeded());
      EXPECT_EQ(remote.events().vm_errors(), local->events().vm_errors());
    }
  }
  const std::string xml = agent::testing::ReadFileOrEmpty(junit);
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lab-a\""));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"lab-b\""));
  const std::string page = agent::testing::ReadFileOrEmpty(html);
  EXPECT_THAT(page, HasSubstr("lab-b"));
  EXPECT_THAT(page, HasSubstr("</html>"));
}

TEST_F(LabRun2, AnUnreachableHostFailsTheRunButNotTheOthers) {
  testing::DeadPort dead;
  const std::string json = tmp_ + "/down.json";
  process_testing::CommandResult r =
      RunLab({"run", Inventory(dead.address()), "--hosts=all", "--quiet",
              "--report-json=" + json, kScenarios[0]});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output,
              ::testing::ContainsRegex("lab-gone +127.0.0.1:[0-9]+ +ERROR +0 .*"
                                       "UNAVAILABLE"));
  EXPECT_THAT(r.output,
              ::testing::ContainsRegex("lab-a +127.0.0.1:[0-9]+ +PASS"));
  LabRun run = ReadLabRun(json);
  ASSERT_EQ(run.hosts_size(), 3);
  EXPECT_EQ(run.hosts(0).reports_size(), 1);
  EXPECT_EQ(run.hosts(2).reports_size(), 0);
  EXPECT_THAT(run.hosts(2).error(), HasSubstr("UNAVAILABLE"));
  EXPECT_EQ(run.hosts(2).attempts(), 3u);
}

TEST_F(LabRun2, WatchMergesTheHostsEventsAndReportsADroppedHost) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> watch =
      testing::StartLab({"watch", Inventory()});
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_EQ((*watch)->NextStdoutLine(kLongWait), "watching 2 of 2 hosts")
      << (*watch)->StderrText();
  // A run on lab-b (on its own device: the agent publishes its events).
  process_testing::CommandResult r =
      RunLab({"run", Inventory(), "--hosts=lab-b", "--quiet", kScenarios[0]});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::optional<std::string> event = (*watch)->NextStdoutLine(kLongWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_THAT(*event, ::testing::MatchesRegex(
                          "lab-b \\| .*transient_enomem  VM_ERR .*ENOMEM.*"));
  // lab-a goes away: its stream is reported lost, the watch goes on.
  agents_[0].process->Signal(SIGTERM);
  EXPECT_EQ(agents_[0].process->WaitExit(kLongWait), 0);
  std::optional<std::string> lost = (*watch)->NextStdoutLine(kLongWait);
  EXPECT_THAT(lost.value_or(""),
              HasSubstr("lab-a | watch stream lost: UNAVAILABLE"));
  (*watch)->Signal(SIGINT);
  EXPECT_EQ((*watch)->WaitExit(kLongWait), 1);  // a host was lost
}

TEST_F(LabRun2, WatchStopsAfterCount) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> watch =
      testing::StartLab({"watch", Inventory(), "--count=1", "--format=json"});
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_EQ((*watch)->NextStdoutLine(kLongWait), "watching 2 of 2 hosts");
  ASSERT_EQ(
      RunLab({"run", Inventory(), "--hosts=lab-a", "--quiet", kScenarios[0]})
          .exit_code,
      0);
  EXPECT_EQ((*watch)->WaitExit(kLongWait), 0);
  EXPECT_THAT((*watch)->StdoutText(),
              HasSubstr("{\"host\":\"lab-a\",\"event\":{"));
}

}  // namespace
}  // namespace xehil::lab
