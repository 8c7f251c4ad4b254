#include "tools/agent/lease_table.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "sim/sim_pressure_injector.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "tools/agent/testing/agent_test_util.h"

namespace xehil::agent {
namespace {

using ::testing::HasSubstr;
using testing::LogCapture;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class LeaseTableTest : public ::testing::Test {
 protected:
  LeaseTableTest()
      : device_(*sim::Device::Create("dg2-16g")), injector_(device_) {}

  std::unique_ptr<LeaseTable> MakeTable(const LeaseLimits& limits = {}) {
    return std::make_unique<LeaseTable>(
        limits,
        [this](const std::string& name) -> absl::StatusOr<PressureInjector*> {
          if (name == "sim") return &injector_;
          if (name == "broken") {
            return absl::FailedPreconditionError("broken needs a unicorn");
          }
          return absl::InvalidArgumentError("unknown provider " + name);
        },
        log_.logger());
  }

  uint64_t Pressure() const {
    uint64_t total = 0;
    for (const sim::RegionUsage& r : device_->Regions()) total += r.pressure;
    return total;
  }

  static LeaseRequest Sim(uint64_t bytes,
                          absl::Duration ttl = absl::Seconds(60)) {
    LeaseRequest request;
    request.provider = "sim";
    request.region_instance = 1;
    request.bytes = bytes;
    request.ttl = ttl;
    request.holder = "test";
    return request;
  }

  std::shared_ptr<sim::Device> device_;
  SimPressureInjector injector_;
  LogCapture log_;
};

TEST_F(LeaseTableTest, AcquireRenewReleaseHoldsAndGivesBack) {
  auto table = MakeTable();
  absl::StatusOr<LeaseInfo> lease = table->Acquire(Sim(64 * kMiB));
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(Pressure(), 64 * kMiB);
  EXPECT_EQ(table->HeldBytes("sim"), 64 * kMiB);
  ASSERT_EQ(table->List().size(), 1u);
  absl::StatusOr<LeaseInfo> renewed =
      table->Renew(lease->id, absl::Seconds(90));
  ASSERT_TRUE(renewed.ok());
  EXPECT_GT(renewed->expires, lease->expires);
  ASSERT_TRUE(table->Release(lease->id).ok());
  EXPECT_EQ(Pressure(), 0u);
  EXPECT_TRUE(absl::IsNotFound(table->Release(lease->id).status()));
  EXPECT_TRUE(
      absl::IsNotFound(table->Renew(lease->id, absl::Seconds(1)).status()));
}

TEST_F(LeaseTableTest, TtlEndsTheLease) {
  auto table = MakeTable();
  absl::StatusOr<LeaseInfo> lease =
      table->Acquire(Sim(kMiB, absl::Milliseconds(50)));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(log_.WaitFor(
      {"\"event\":\"released\"", lease->id, "\"reason\":\"ttl\""}));
  EXPECT_EQ(Pressure(), 0u);
  EXPECT_TRUE(table->List().empty());
}

TEST_F(LeaseTableTest, RefusesBadRequestsAndCapsWithoutTakingAnything) {
  LeaseLimits limits;
  limits.max_ttl = absl::Minutes(1);
  limits.max_leases = 2;
  limits.max_bytes["sim"] = 100 * kMiB;
  auto table = MakeTable(limits);
  EXPECT_TRUE(absl::IsInvalidArgument(table->Acquire(Sim(0)).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      table->Acquire(Sim(kMiB, absl::ZeroDuration())).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      table->Acquire(Sim(kMiB, absl::Minutes(2))).status()));
  LeaseRequest unknown = Sim(kMiB);
  unknown.provider = "nope";
  EXPECT_TRUE(absl::IsInvalidArgument(table->Acquire(unknown).status()));
  LeaseRequest broken = Sim(kMiB);
  broken.provider = "broken";
  absl::Status why = table->Acquire(broken).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(why));
  EXPECT_THAT(why.message(), HasSubstr("unicorn"));
  absl::Status over = table->Acquire(Sim(101 * kMiB)).status();
  EXPECT_TRUE(absl::IsResourceExhausted(over));
  EXPECT_THAT(over.message(), HasSubstr("cap"));
  ASSERT_TRUE(table->Acquire(Sim(60 * kMiB)).ok());
  EXPECT_TRUE(
      absl::IsResourceExhausted(table->Acquire(Sim(41 * kMiB)).status()));
  ASSERT_TRUE(table->Acquire(Sim(40 * kMiB)).ok());
  EXPECT_TRUE(absl::IsResourceExhausted(table->Acquire(Sim(1)).status()));
  EXPECT_EQ(Pressure(), 100 * kMiB);
  EXPECT_TRUE(
      log_.WaitFor({"\"event\":\"refused\"", "\"code\":\"INVALID_ARGUMENT\""}));
}

TEST_F(LeaseTableTest, ConcurrentAcquisitionsNeverOvershootTheCap) {
  LeaseLimits limits;
  limits.max_leases = 100;
  limits.max_bytes["sim"] = 10 * kMiB;
  auto table = MakeTable(limits);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        if (table->Acquire(Sim(kMiB)).ok()) ++granted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(granted.load(), 10);
  EXPECT_EQ(Pressure(), 10 * kMiB);
}

TEST_F(LeaseTableTest, ClosingASessionReleasesItsLeasesAtOnce) {
  auto table = MakeTable();
  std::vector<std::string> heard;
  absl::Mutex mu;
  const std::string session = table->OpenSession(
      "controller", [&](const std::string& id, LeaseEnd end) {
        absl::MutexLock lock(&mu);
        heard.push_back(id + ":" + LeaseEndName(end));
      });
  LeaseRequest bound = Sim(8 * kMiB);
  bound.session = session;
  absl::StatusOr<LeaseInfo> a = table->Acquire(bound);
  absl::StatusOr<LeaseInfo> b = table->Acquire(bound);
  absl::StatusOr<LeaseInfo> unbound = table->Acquire(Sim(kMiB));
  ASSERT_TRUE(a.ok() && b.ok() && unbound.ok());
  ASSERT_TRUE(table->Release(b->id).ok());  // heard: released
  table->CloseSession(session);
  EXPECT_EQ(Pressure(), kMiB);
  EXPECT_TRUE(log_.WaitFor({a->id, "\"reason\":\"stream-dropped\""}));
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(heard, ::testing::ElementsAre(b->id + ":released"));
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(table->Acquire(bound).status()));
  table->CloseSession(session);  // idempotent
}

TEST_F(LeaseTableTest, ShutdownReleasesEverythingAndRefusesNewLeases) {
  auto table = MakeTable();
  ASSERT_TRUE(table->Acquire(Sim(kMiB)).ok());
  ASSERT_TRUE(table->Acquire(Sim(2 * kMiB)).ok());
  table->Shutdown();
  EXPECT_EQ(Pressure(), 0u);
  EXPECT_TRUE(absl::IsUnavailable(table->Acquire(Sim(kMiB)).status()));
  EXPECT_TRUE(log_.WaitFor({"\"reason\":\"shutdown\""}));
}

TEST_F(LeaseTableTest, EveryLogLineIsOneJsonObject) {
  auto table = MakeTable();
  absl::StatusOr<LeaseInfo> lease = table->Acquire(Sim(kMiB));
  ASSERT_TRUE(lease.ok());
  ASSERT_TRUE(table->Release(lease->id, "me").ok());
  for (const std::string& line : log_.lines()) {
    EXPECT_TRUE(absl::StartsWith(line, "{\"time\":\"")) << line;
    EXPECT_TRUE(absl::EndsWith(line, "}")) << line;
    EXPECT_THAT(line, HasSubstr("\"component\":\"lease\""));
    EXPECT_THAT(line, ::testing::Not(HasSubstr("\n")));
  }
  EXPECT_TRUE(log_.WaitFor({"\"event\":\"released\"", "\"by\":\"me\""}));
}

}  // namespace
}  // namespace xehil::agent
