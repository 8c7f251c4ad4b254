// xehil-agent run as a real process, the way a lab machine runs it.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/agent/testing/agent_test_util.h"
#include "common/testing/child_process.h"

namespace xehil::agent {
namespace {

using process_testing::ChildProcess;
using testing::Context;
using ::testing::HasSubstr;
using testing::kLongWait;
using testing::SimRequest;
using testing::UsedBytes;

constexpr char kAgent[] = "tools/agent/xehil-agent";
constexpr char kLeaseHolder[] = "tools/agent/lease_holder";
constexpr uint64_t kMiB = uint64_t{1} << 20;

// A running agent and a client for it. The agent must not have reported
// anything under ASan or TSan (it runs instrumented like the test).
struct Agent {
  Agent() = default;
  Agent(Agent&&) = default;
  ~Agent() {
    if (process == nullptr) return;
    EXPECT_THAT(process->StderrText(), ::testing::Not(HasSubstr("Sanitizer")));
  }

  std::unique_ptr<ChildProcess> process;
  std::string address;
  std::unique_ptr<lab::Agent::Stub> stub;
};

std::optional<Agent> StartAgent(std::vector<std::string> args) {
  args.insert(args.begin(), "--listen=127.0.0.1:0");
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(kAgent, args);
  if (!process.ok()) {
    ADD_FAILURE() << process.status();
    return std::nullopt;
  }
  Agent agent;
  agent.process = *std::move(process);
  const std::string line =
      agent.process->NextStdoutLine(kLongWait).value_or("<none>");
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, "listening on 127.0.0.1:")) {
    ADD_FAILURE() << "first line: '" << line << "'\n"
                  << agent.process->StderrText();
    return std::nullopt;
  }
  int port = 0;
  EXPECT_TRUE(absl::SimpleAtoi(rest, &port) && port > 0) << rest;
  agent.address = absl::StrCat("127.0.0.1:", port);
  agent.stub = lab::Agent::NewStub(testing::InsecureChannel(agent.address));
  return agent;
}

// VmLck of `pid`, in bytes.
uint64_t VmLck(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t kib = 0;
    if (f.size() == 3 && f[0] == "VmLck:" && absl::SimpleAtoi(f[1], &kib)) {
      return kib * 1024;
    }
  }
  ADD_FAILURE() << "no VmLck for pid " << pid;
  return 0;
}

TEST(AgentProcess, PrintsTheChosenPortAndAnswersGetInfo) {
  std::optional<Agent> agent =
      StartAgent({"--backend=sim", "--device-profile=bmg-12g"});
  ASSERT_TRUE(agent.has_value());
  lab::AgentInfo info;
  grpc::Status status = agent->stub->GetInfo(Context().get(), {}, &info);
  ASSERT_TRUE(status.ok()) << status.error_message();
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  EXPECT_EQ(info.host_name(), host);
  EXPECT_EQ(info.backend(), "sim");
  EXPECT_THAT(info.device_description(), HasSubstr("bmg-12g"));
  EXPECT_EQ(info.regions_size(), 2);
  EXPECT_EQ(info.providers_size(), 3);
  EXPECT_TRUE(agent->process->WaitForStderr(
      {"\"event\":\"started\"", agent->address}, kLongWait));
}

TEST(AgentProcess, StreamBoundLeaseIsReleasedWhenItsClientIsKilled) {
  std::optional<Agent> agent = StartAgent({});
  ASSERT_TRUE(agent.has_value());
  absl::StatusOr<std::unique_ptr<ChildProcess>> holder = ChildProcess::Start(
      kLeaseHolder, {agent->address, absl::StrCat(256 * kMiB)});
  ASSERT_TRUE(holder.ok()) << holder.status();
  std::optional<std::string> held = (*holder)->NextStdoutLine(kLongWait);
  ASSERT_TRUE(held.has_value() && absl::StartsWith(*held, "held "))
      << (*holder)->StderrText();
  const std::string lease_id = held->substr(5);
  EXPECT_EQ(UsedBytes(*agent->stub, 1), 256 * kMiB);

  const absl::Time killed = absl::Now();
  (*holder)->Signal(SIGKILL);
  EXPECT_EQ((*holder)->WaitExit(kLongWait), 128 + SIGKILL);
  ASSERT_TRUE(agent->process->WaitForStderr(
      {"\"event\":\"released\"", lease_id, "\"reason\":\"stream-dropped\""},
      kLongWait))
      << agent->process->StderrText();
  // Promptly: the connection's end is noticed, no TTL or keepalive involved.
  EXPECT_LT(absl::Now() - killed, absl::Seconds(5));
  EXPECT_EQ(UsedBytes(*agent->stub, 1), 0u);
}

TEST(AgentProcess, SysmemLocksMemoryInTheAgentAndGivesItAllBack) {
  std::optional<Agent> agent =
      StartAgent({"--sysmem-floor=64M", "--max-sysmem-bytes=128M"});
  ASSERT_TRUE(agent.has_value());
  const pid_t pid = agent->process->pid();
  const uint64_t before = VmLck(pid);
  lab::AcquirePressureRequest request = SimRequest(0, 64 * kMiB);
  request.set_provider("sysmem");
  lab::Lease lease;
  grpc::Status status =
      agent->stub->AcquirePressure(Context().get(), request, &lease);
  if (absl::StrContains(status.error_message(), "mlock") ||
      absl::StrContains(status.error_message(), "floor")) {
    GTEST_SKIP() << "this host cannot lock 64 MiB: " << status.error_message();
  }
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GE(VmLck(pid), before + 64 * kMiB);
  // Over the cap of this agent: refused, nothing more locked.
  lab::Lease more;
  request.set_bytes(65 * kMiB);
  EXPECT_EQ(agent->stub->AcquirePressure(Context().get(), request, &more)
                .error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_LT(VmLck(pid), before + 129 * kMiB);

  lab::ReleasePressureRequest release;
  release.set_lease_id(lease.lease_id());
  ASSERT_TRUE(
      agent->stub->ReleasePressure(Context().get(), release, &more).ok());
  EXPECT_EQ(VmLck(pid), before);
}

TEST(AgentProcess, SigtermReleasesEveryLeaseAndExitsZero) {
  std::optional<Agent> agent = StartAgent({});
  ASSERT_TRUE(agent.has_value());
  lab::Lease lease;
  ASSERT_TRUE(
      agent->stub
          ->AcquirePressure(Context().get(), SimRequest(1, 64 * kMiB), &lease)
          .ok());
  agent->process->Signal(SIGTERM);
  EXPECT_EQ(agent->process->WaitExit(kLongWait), 0)
      << agent->process->StderrText();
  const std::string log = agent->process->StderrText();
  EXPECT_THAT(log, HasSubstr("\"signal\":\"SIGTERM\""));
  EXPECT_TRUE(agent->process->WaitForStderr(
      {"\"event\":\"released\"", lease.lease_id(), "\"reason\":\"shutdown\""},
      absl::ZeroDuration()))
      << log;
  EXPECT_THAT(log, HasSubstr("\"event\":\"stopped\""));
}

TEST(AgentProcess, SigintAlsoStopsItCleanly) {
  std::optional<Agent> agent = StartAgent({});
  ASSERT_TRUE(agent.has_value());
  agent->process->Signal(SIGINT);
  EXPECT_EQ(agent->process->WaitExit(kLongWait), 0)
      << agent->process->StderrText();
}

TEST(AgentProcess, TokensAreCheckedWithRoles) {
  const std::string path =
      absl::StrCat(getenv("TEST_TMPDIR"), "/process_tokens");
  std::ofstream(path) << "# lab tokens\nadmin-secret admin\nread-secret read\n";
  std::optional<Agent> agent = StartAgent({"--token-file=" + path});
  ASSERT_TRUE(agent.has_value());
  lab::AgentInfo info;
  EXPECT_EQ(agent->stub->GetInfo(Context().get(), {}, &info).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(agent->stub->GetInfo(Context("wrong-secret").get(), {}, &info)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  ASSERT_TRUE(
      agent->stub->GetInfo(Context("read-secret").get(), {}, &info).ok());
  EXPECT_EQ(info.caller_role(), "read");
  lab::Lease lease;
  EXPECT_EQ(agent->stub
                ->AcquirePressure(Context("read-secret").get(),
                                  SimRequest(1, kMiB), &lease)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(agent->stub
                  ->AcquirePressure(Context("admin-secret").get(),
                                    SimRequest(1, kMiB), &lease)
                  .ok());
  EXPECT_THAT(lease.holder(), HasSubstr("token#2"));
  EXPECT_THAT(agent->process->StderrText(),
              ::testing::Not(HasSubstr("admin-secret")));
}

TEST(AgentProcess, ASecondAgentOnTheSamePortIsRefused) {
  std::optional<Agent> first = StartAgent({"--backend=sim"});
  ASSERT_TRUE(first.has_value());
  process_testing::CommandResult second = process_testing::RunCommand(
      kAgent, {"--backend=sim", "--listen=" + first->address},
      absl::Seconds(60));
  EXPECT_EQ(second.exit_code, 1) << second.output;
  EXPECT_THAT(second.output, HasSubstr("cannot listen on " + first->address));
}

TEST(AgentProcess, HelpAndUsageErrors) {
  process_testing::CommandResult help = process_testing::RunCommand(kAgent, {"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.output, HasSubstr("usage: xehil-agent"));
  process_testing::CommandResult bad_flag =
      process_testing::RunCommand(kAgent, {"--no-such-flag"});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.output, HasSubstr("xehil-agent: unknown flag"));
  EXPECT_THAT(bad_flag.output, HasSubstr("(see `xehil-agent --help`)"));
  EXPECT_EQ(process_testing::RunCommand(kAgent, {"--backend=gpu"}).exit_code, 2);
  EXPECT_EQ(process_testing::RunCommand(kAgent, {"--max-sysmem-bytes=lots"}).exit_code,
            2);
  process_testing::CommandResult open =
      process_testing::RunCommand(kAgent, {"--listen=0.0.0.0:0"});
  EXPECT_EQ(open.exit_code, 2);
  EXPECT_THAT(open.output, HasSubstr("needs TLS"));
  process_testing::CommandResult no_tokens = process_testing::RunCommand(
      kAgent, {"--listen=127.0.0.1:0", "--token-file=/nonexistent/tokens"});
  EXPECT_EQ(no_tokens.exit_code, 1);
  EXPECT_THAT(no_tokens.output, HasSubstr("/nonexistent/tokens"));
}

}  // namespace
}  // namespace xehil::agent
