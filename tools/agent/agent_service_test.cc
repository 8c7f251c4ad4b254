// The agent's unary RPCs served in-process over loopback: info, leases,
// caps and malformed requests.
#include "tools/agent/agent_service.h"

#include <chrono>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/agent/testing/agent_test_util.h"

namespace xehil::agent {
namespace {

using testing::Context;
using ::testing::HasSubstr;
using testing::InProcessAgent;
using testing::InProcessOptions;
using testing::SimRequest;
using testing::UsedBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint32_t kVram = 1;  // dg2-16g's VRAM region

grpc::Status Acquire(InProcessAgent& agent,
                     const lab::AcquirePressureRequest& request,
                     lab::Lease* lease) {
  return agent.stub().AcquirePressure(Context().get(), request, lease);
}

TEST(AgentService, GetInfoDescribesHostDeviceProvidersAndLimits) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::AgentInfo info;
  ASSERT_TRUE(agent.stub().GetInfo(Context().get(), {}, &info).ok());
  EXPECT_FALSE(info.host_name().empty());
  EXPECT_EQ(info.agent_version(), kAgentVersion);
  EXPECT_EQ(info.backend(), "sim");
  EXPECT_THAT(info.device_description(), HasSubstr("dg2-16g"));
  ASSERT_EQ(info.regions_size(), 2);
  EXPECT_EQ(info.regions(1).mem_class(), "vram");
  EXPECT_EQ(info.regions(1).total_bytes(), uint64_t{16} << 30);
  EXPECT_EQ(info.regions(1).used_bytes(), 0u);
  EXPECT_FALSE(info.kernel().release().empty());
  EXPECT_FALSE(info.kernel().watch_queue().detail().empty());
  EXPECT_FALSE(info.kernel().fail_function().available());
  EXPECT_THAT(info.kernel().fail_function().detail(),
              HasSubstr("/nonexistent-debugfs"));
  EXPECT_TRUE(info.backend_watch_queue().available());
  ASSERT_EQ(info.providers_size(), 3);
  EXPECT_EQ(info.providers(0).name(), "sim");
  EXPECT_TRUE(info.providers(0).available());
  EXPECT_EQ(info.providers(1).name(), "sysmem");
  EXPECT_EQ(info.providers(1).floor_bytes(), 64 * kMiB);
  EXPECT_EQ(info.providers(2).name(), "xe-vram");
  EXPECT_EQ(info.limits().max_ttl_ms(), 5 * 60 * 1000);
  EXPECT_EQ(info.limits().max_leases(), 8u);
  EXPECT_EQ(info.caller_role(), "admin");
}

TEST(AgentService, SimPressureAcquireRenewReleaseChangesDeviceUsage) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  ASSERT_TRUE(Acquire(agent, SimRequest(kVram, 256 * kMiB), &lease).ok());
  EXPECT_EQ(lease.bytes(), 256 * kMiB);
  EXPECT_EQ(lease.provider(), "sim");
  EXPECT_GT(lease.expires_unix_ms(), absl::ToUnixMillis(absl::Now()));
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 256 * kMiB);

  lab::RenewLeaseRequest renew;
  renew.set_lease_id(lease.lease_id());
  renew.set_ttl_ms(120000);
  lab::Lease renewed;
  ASSERT_TRUE(agent.stub().RenewLease(Context().get(), renew, &renewed).ok());
  EXPECT_EQ(renewed.ttl_ms(), 120000);
  EXPECT_GT(renewed.expires_unix_ms(), lease.expires_unix_ms());
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 256 * kMiB);

  lab::ReleasePressureRequest release;
  release.set_lease_id(lease.lease_id());
  lab::Lease released;
  ASSERT_TRUE(
      agent.stub().ReleasePressure(Context().get(), release, &released).ok());
  EXPECT_EQ(released.lease_id(), lease.lease_id());
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
  // Gone: renewing or releasing again is NOT_FOUND.
  EXPECT_EQ(agent.stub()
                .ReleasePressure(Context().get(), release, &released)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(
      agent.stub().RenewLease(Context().get(), renew, &renewed).error_code(),
      grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(
      agent.log().WaitFor({"\"event\":\"acquired\"", lease.lease_id()}));
  EXPECT_TRUE(agent.log().WaitFor({"\"event\":\"renewed\"", lease.lease_id()}));
  EXPECT_TRUE(agent.log().WaitFor(
      {"\"event\":\"released\"", lease.lease_id(), "\"reason\":\"released\""}));
}

TEST(AgentService, FractionOfTheRegionIsResolvedToBytes) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::AcquirePressureRequest request = SimRequest(kVram, 0);
  request.set_fraction(0.25);
  lab::Lease lease;
  ASSERT_TRUE(Acquire(agent, request, &lease).ok());
  EXPECT_EQ(lease.bytes(), uint64_t{4} << 30);
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), uint64_t{4} << 30);
}

TEST(AgentService, TtlLeaseIsReleasedWithinTtlPlusOneSecond) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Acquire(agent, SimRequest(kVram, 64 * kMiB, 300), &lease).ok());
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 64 * kMiB);
  ASSERT_TRUE(agent.log().WaitFor(
      {"\"event\":\"released\"", lease.lease_id(), "\"reason\":\"ttl\""},
      absl::Milliseconds(300) + absl::Seconds(1)));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(1300));
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
}

TEST(AgentService, CapsAreRefusedWithTheRightCodesAndNothingTaken) {
  InProcessOptions options = testing::DefaultInProcessOptions();
  options.service.limits.max_leases = 2;
  options.service.limits.max_bytes["sim"] = 512 * kMiB;
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  // Above the provider's byte cap at once, and together with a held lease.
  grpc::Status over = Acquire(agent, SimRequest(kVram, 513 * kMiB), &lease);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(over.error_message(), HasSubstr("cap"));
  ASSERT_TRUE(Acquire(agent, SimRequest(kVram, 300 * kMiB), &lease).ok());
  over = Acquire(agent, SimRequest(kVram, 300 * kMiB), &lease);
  EXPECT_EQ(over.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 300 * kMiB);
  // The lease count.
  ASSERT_TRUE(Acquire(agent, SimRequest(kVram, 10 * kMiB), &lease).ok());
  grpc::Status too_many = Acquire(agent, SimRequest(kVram, kMiB), &lease);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(too_many.error_message(), HasSubstr("leases"));
  // The TTL cap is a malformed request.
  grpc::Status long_ttl =
      Acquire(agent, SimRequest(kVram, kMiB, 6 * 60 * 1000), &lease);
  EXPECT_EQ(long_ttl.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(long_ttl.error_message(), HasSubstr("maximum"));
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 310 * kMiB);
  EXPECT_TRUE(agent.log().WaitFor(
      {"\"event\":\"refused\"", "\"code\":\"RESOURCE_EXHAUSTED\""}));
}

TEST(AgentService, MalformedRequestsAreInvalidArgument) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  auto code = [&](const lab::AcquirePressureRequest& request) {
    return Acquire(agent, request, &lease).error_code();
  };
  EXPECT_EQ(code(SimRequest(kVram, -4096)), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(SimRequest(kVram, 0)), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(SimRequest(kVram, kMiB, 0)),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(SimRequest(kVram, kMiB, -5)),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code(SimRequest(7, kMiB)), grpc::StatusCode::INVALID_ARGUMENT);
  lab::AcquirePressureRequest unknown = SimRequest(kVram, kMiB);
  unknown.set_provider("gpu-hog");
  EXPECT_EQ(code(unknown), grpc::StatusCode::INVALID_ARGUMENT);
  for (double f :
       {1.5, 1e300, 0.0, -0.5, std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::infinity()}) {
    lab::AcquirePressureRequest fraction = SimRequest(kVram, 0);
    fraction.set_fraction(f);
    EXPECT_EQ(code(fraction), grpc::StatusCode::INVALID_ARGUMENT) << f;
  }
  lab::AcquirePressureRequest no_amount = SimRequest(kVram, 0);
  no_amount.clear_bytes();
  EXPECT_EQ(code(no_amount), grpc::StatusCode::INVALID_ARGUMENT);
  lab::RenewLeaseRequest renew;
  renew.set_lease_id("lease-x");
  renew.set_ttl_ms(0);
  EXPECT_EQ(
      agent.stub().RenewLease(Context().get(), renew, &lease).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(UsedBytes(agent.stub(), kVram), 0u);
}

TEST(AgentService, RefusalsShowTheValueExactlyAsSent) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  lab::AcquirePressureRequest fraction = SimRequest(kVram, 0);
  fraction.set_fraction(1.0000001);
  grpc::Status refused = Acquire(agent, fraction, &lease);
  EXPECT_THAT(refused.error_message(), HasSubstr("(got 1.0000001)"));
  EXPECT_TRUE(
      agent.log().WaitFor({"\"event\":\"refused\"", "\"fraction\":1.0000001"}));

  // Region 70000 must not show up as 70000 mod 65536 (4464).
  refused = Acquire(agent, SimRequest(70000, -4096), &lease);
  EXPECT_THAT(refused.error_message(), HasSubstr("70000"));
  EXPECT_TRUE(agent.log().WaitFor(
      {"\"event\":\"refused\"",
       "\"requested\":{\"region_instance\":70000,\"ttl_ms\":60000,"
       "\"bytes\":-4096}"}));
  EXPECT_THAT(agent.log().text(), ::testing::Not(HasSubstr("\"region\":4464")));

  lab::RenewLeaseRequest renew;
  renew.set_lease_id("lease-x");
  renew.set_ttl_ms(int64_t{1} << 41);
  grpc::Status renewed =
      agent.stub().RenewLease(Context().get(), renew, &lease);
  EXPECT_THAT(renewed.error_message(),
              HasSubstr(absl::StrCat("(got ", int64_t{1} << 41, ")")));
  EXPECT_THAT(renewed.error_message(), ::testing::Not(HasSubstr("above zero")));
}

TEST(AgentService, ProviderThatCannotWorkHereIsFailedPrecondition) {
  InProcessAgent agent;
  ASSERT_TRUE(agent.Start().ok());
  lab::AgentInfo info;
  ASSERT_TRUE(agent.stub().GetInfo(Context().get(), {}, &info).ok());
  if (info.providers(2).available()) {
    GTEST_SKIP() << "this host has an xe device: xe-vram pressure works";
  }
  lab::AcquirePressureRequest request = SimRequest(kVram, kMiB);
  request.set_provider("xe-vram");
  lab::Lease lease;
  grpc::Status status = Acquire(agent, request, &lease);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("xe render node"));
  EXPECT_EQ(status.error_message(), info.providers(2).unavailable_reason());
}

TEST(AgentService, SimPressureOnTheXeBackendNamesWhatIsMissing) {
  InProcessOptions options = testing::DefaultInProcessOptions();
  options.backend.backend = "xe";
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());
  lab::Lease lease;
  grpc::Status status = Acquire(agent, SimRequest(kVram, kMiB), &lease);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("--backend=sim"));
  lab::AgentInfo info;
  ASSERT_TRUE(agent.stub().GetInfo(Context().get(), {}, &info).ok());
  EXPECT_EQ(info.backend(), "xe");
  if (info.device_description().empty()) {
    EXPECT_FALSE(info.device_error().empty());
  }
}

TEST(AgentService, SysmemRefusesToGoBelowItsFloor) {
  InProcessOptions options = testing::DefaultInProcessOptions();
  options.backend.sysmem.floor_bytes = uint64_t{1} << 60;  // more than any host
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());
  lab::AcquirePressureRequest request = SimRequest(0, 16 * kMiB);
  request.set_provider("sysmem");
  lab::Lease lease;
  grpc::Status status = Acquire(agent, request, &lease);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("floor"));
  EXPECT_EQ(agent.service().leases().HeldBytes("sysmem"), 0u);
}

}  // namespace
}  // namespace xehil::agent
