// The agent's streams served in-process: HoldLeases (stream-bound leases),
// WatchEvents, RunScenario, and what shutdown does to all of them.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/scenario/loader.h"
#include "core/scenario/runner.h"
#include "environment/sim_environment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/agent/agent_service.h"
#include "tools/agent/testing/agent_test_util.h"

namespace xehil::agent {
namespace {

using testing::Context;
using ::testing::HasSubstr;
using testing::InProcessAgent;
using testing::SimRequest;
using testing::UsedBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint32_t kVram = 1;

// An open HoldLeases stream and its session id.
struct Hold {
  std::unique_ptr<grpc::ClientContext> context = Context();
  std::unique_ptr<grpc::ClientReader<lab::HoldLeasesUpdate>> reader;
  std::string session;
};

std::unique_ptr<Hold> OpenHold(InProcessAgent& agent) {
  auto hold = std::make_unique<Hold>();
  hold->reader = agent.stub().HoldLeases(hold->context.get(), {});
  lab::HoldLeasesUpdate first;
  if (!hold->reader->Read(&first)) return nullptr;
  hold->session = first.session_id();
  return hold;
}

TEST(AgentStreams, BoundLeaseIsReleasedWhenTheStreamIsCancelled) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  std::unique_ptr<Hold> hold = OpenHold(agent);
  ASSERT_NE(hold, nullptr);
  EXPECT_THAT(hold->session, HasSubstr("session-"));
  lab::AcquirePressureRequest bound = SimRequest(kVram, 128 * kMiB);
  bound.set_bind_to_stream(hold->session);
  lab::Lease lease, unbound;
  ASSERT_TRUE(
      agent.stub().AcquirePressure(Context().get(), bound, &lease).ok());
  EXPECT_EQ(lease.bound_to_stream(), hold->session);
  ASSERT_TRUE(
      agent.stub()
          .AcquirePressure(Context().get(), SimRequest(kVram, kMiB), &unbound)
          .ok());
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 129 * kMiB);

  hold->context->TryCancel();
  ASSERT_TRUE(agent.log().WaitFor({"\"event\":\"released\"", lease.lease_id(),
                                   "\"reason\":\"stream-dropped\""}));
  EXPECT_EQ(hold->reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // Only the bound lease went.
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), kMiB);
  // The session is closed for good.
  grpc::Status late =
      agent.stub().AcquirePressure(Context().get(), bound, &lease);
  EXPECT_EQ(late.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(late.error_message(), HasSubstr("not open"));
}

TEST(AgentStreams, BoundLeaseEndedByItsTtlIsReportedOnTheStream) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  std::unique_ptr<Hold> hold = OpenHold(agent);
  ASSERT_NE(hold, nullptr);
  lab::AcquirePressureRequest bound = SimRequest(kVram, 8 * kMiB, 100);
  bound.set_bind_to_stream(hold->session);
  lab::Lease lease;
  ASSERT_TRUE(
      agent.stub().AcquirePressure(Context().get(), bound, &lease).ok());
  lab::HoldLeasesUpdate update;
  ASSERT_TRUE(hold->reader->Read(&update));
  EXPECT_EQ(update.lease_ended().lease_id(), lease.lease_id());
  EXPECT_EQ(update.lease_ended().reason(), "ttl");
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
}

TEST(AgentStreams, UnknownSessionIsFailedPrecondition) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::AcquirePressureRequest bound = SimRequest(kVram, kMiB);
  bound.set_bind_to_stream("session-nope-1");
  lab::Lease lease;
  EXPECT_EQ(
      agent.stub().AcquirePressure(Context().get(), bound, &lease).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
}

// Runs `scenario` on the agent; returns the report (and the progress kinds).
Report RunRemote(InProcessAgent& agent, const Scenario& scenario,
                 std::vector<lab::ScenarioProgress::Kind>* kinds,
                 bool isolated = false) {
  lab::RunScenarioRequest request;
  *request.mutable_scenario() = scenario;
  request.set_source("test");
  request.set_isolated_device(isolated);
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto reader = agent.stub().RunScenario(context.get(), request);
  lab::RunScenarioUpdate update;
  Report report;
  while (reader->Read(&update)) {
    if (update.has_progress()) kinds->push_back(update.progress().kind());
    if (update.has_report()) report = update.report();
  }
  grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  return report;
}

void ExpectSameOutcome(const Report& remote, const Report& local) {
  EXPECT_EQ(remote.result(), local.result()) << remote.reason();
  ASSERT_EQ(remote.expectations_size(), local.expectations_size());
  for (int i = 0; i < local.expectations_size(); ++i) {
    EXPECT_EQ(remote.expectations(i).name(), local.expectations(i).name());
    EXPECT_EQ(remote.expectations(i).result(), local.expectations(i).result())
        << remote.expectations(i).name() << ": "
        << remote.expectations(i).message();
  }
}

TEST(AgentStreams, RemoteScenarioRunGivesTheSameReportAsALocalRun) {
  InProcessAgent agent;  // dg2-16g, as the scenarios ask
  ASSERT_TRUE(agent.Start().ok());
  for (const char* name : {"transient_enomem", "enospc_vram_pressure"}) {
    SCOPED_TRACE(name);
    absl::StatusOr<Scenario> scenario =
        LoadScenarioFile(std::string("scenarios/") + name + ".textproto");
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    absl::StatusOr<Report> local = RunScenarioOnSim(*scenario, RunOptions());
    ASSERT_TRUE(local.ok()) << local.status();
    ASSERT_EQ(local->result(), RESULT_PASS);
    std::vector<lab::ScenarioProgress::Kind> kinds;
    Report remote = RunRemote(agent, *scenario, &kinds);
    ExpectSameOutcome(remote, *local);
    EXPECT_EQ(remote.backend(), "sim");
    EXPECT_EQ(remote.source(), "test");
    EXPECT_THAT(kinds,
                ::testing::Contains(lab::ScenarioProgress::KIND_STEP_STARTED));
    ASSERT_FALSE(kinds.empty());
    EXPECT_EQ(kinds.back(), lab::ScenarioProgress::KIND_DONE);
  }
  // The pressure step went through the lease table and was given back.
  EXPECT_TRUE(agent.log().WaitFor({"\"event\":\"acquired\"", "scenario"}));
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
}

TEST(AgentStreams, IsolatedRunUsesTheScenariosOwnDevice) {
  testing::InProcessOptions options = testing::DefaultInProcessOptions();
  options.backend.device_profile = "lnl-igpu";  // no VRAM at all
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile("scenarios/enospc_vram_pressure.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  std::vector<lab::ScenarioProgress::Kind> kinds;
  Report report = RunRemote(agent, *scenario, &kinds, /*isolated=*/true);
  EXPECT_EQ(report.result(), RESULT_PASS) << report.reason();
  EXPECT_THAT(report.device(), HasSubstr("dg2-16g"));
}

TEST(AgentStreams, OneScenarioAtATimeRunsOnTheAgentsDevice) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  absl::StatusOr<Scenario> slow =
      ParseScenarioText(R"pb(
                          name: "slow"
                          setup { files { name: "app" } }
                          steps { wait_ms: 300 }
                        )pb",
                        "slow");
  ASSERT_TRUE(slow.ok()) << slow.status();
  lab::RunScenarioRequest request;
  *request.mutable_scenario() = *slow;
  std::unique_ptr<grpc::ClientContext> first_context = Context();
  auto first = agent.stub().RunScenario(first_context.get(), request);
  lab::RunScenarioUpdate update;
  ASSERT_TRUE(first->Read(&update));  // running: it holds the device
  auto second_context = Context();
  auto second = agent.stub().RunScenario(second_context.get(), request);
  EXPECT_FALSE(second->Read(&update));
  grpc::Status busy = second->Finish();
  EXPECT_EQ(busy.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(busy.error_message(), HasSubstr("isolated_device"));
  while (first->Read(&update)) {
  }
  EXPECT_TRUE(update.has_report());
  EXPECT_TRUE(first->Finish().ok());
}

TEST(AgentStreams, ScenarioWithoutADeviceIsFailedPrecondition) {
  testing::InProcessOptions options = testing::DefaultInProcessOptions();
  options.backend.backend = "xe";
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());
  if (agent.service().backend().device_status().ok()) {
    GTEST_SKIP() << "this host has an xe device";
  }
  lab::RunScenarioRequest request;
  request.mutable_scenario()->set_name("x");
  auto context = Context();
  auto reader = agent.stub().RunScenario(context.get(), request);
  lab::RunScenarioUpdate update;
  EXPECT_FALSE(reader->Read(&update));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("no device"));
  request.set_isolated_device(true);
  auto isolated_context = Context();
  reader = agent.stub().RunScenario(isolated_context.get(), request);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(AgentStreams, InvalidScenarioIsInvalidArgument) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::RunScenarioRequest request;
  request.mutable_scenario()->set_name("broken");
  request.mutable_scenario()->add_steps()->set_release_pressure("nothing");
  auto context = Context();
  auto reader = agent.stub().RunScenario(context.get(), request);
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(AgentStreams, WatchEventsStreamsTheEventsOfScenarioRuns) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  std::unique_ptr<grpc::ClientContext> context = Context();
  auto watch = agent.stub().WatchEvents(context.get(), {});
  watch->WaitForInitialMetadata();  // subscribed from here on
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile("scenarios/transient_enomem.textproto");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  std::vector<lab::ScenarioProgress::Kind> kinds;
  ASSERT_EQ(RunRemote(agent, *scenario, &kinds).result(), RESULT_PASS);
  lab::AgentEvent event;
  ASSERT_TRUE(watch->Read(&event));
  EXPECT_EQ(event.scenario(), "transient_enomem");
  EXPECT_EQ(event.file(), "app");
  EXPECT_EQ(event.type(), EVENT_TYPE_VM_ERR);
  EXPECT_EQ(event.error(), -ENOMEM);
  EXPECT_NE(event.vm_id(), 0u);
  EXPECT_THAT(event.text(), HasSubstr("VM_ERR"));
  context->TryCancel();
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST(AgentStreams, ShutdownReleasesEveryLeaseAndEndsTheStreams) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  std::unique_ptr<Hold> hold = OpenHold(agent);
  ASSERT_NE(hold, nullptr);
  std::unique_ptr<grpc::ClientContext> watch_context = Context();
  auto watch = agent.stub().WatchEvents(watch_context.get(), {});
  watch->WaitForInitialMetadata();
  lab::Lease lease;
  ASSERT_TRUE(agent.stub()
                  .AcquirePressure(Context().get(),
                                   SimRequest(kVram, 32 * kMiB), &lease)
                  .ok());
  std::shared_ptr<sim::Device> device = agent.service().backend().sim_device();
  agent.Stop();
  EXPECT_TRUE(agent.log().WaitFor(
      {"\"event\":\"released\"", lease.lease_id(), "\"reason\":\"shutdown\""}));
  for (const sim::RegionUsage& region : device->Regions()) {
    EXPECT_EQ(region.pressure, 0u);
  }
  lab::HoldLeasesUpdate update;
  while (hold->reader->Read(&update)) {
  }
  EXPECT_EQ(hold->reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  lab::AgentEvent event;
  EXPECT_FALSE(watch->Read(&event));
  EXPECT_EQ(watch->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace xehil::agent
