// The worked example's claim, proved on the simulator: under VRAM pressure
// that is never released, restarting alone does not bring the VM back (the
// scenario fails, and only on its all_healthy expectation), while shrinking
// the working set before the restart does (the scenario passes).
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "environment/testing.h"
#include "examples/shrink_policy/shrinking_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/scenario.pb.h"

namespace xehil::examples {
namespace {

using ::testing::ElementsAre;
using ::testing::Not;

constexpr char kHeldPressure[] =
    "examples/shrink_policy/held_pressure.textproto";

std::vector<std::string> FailedExpectations(const Report& report) {
  std::vector<std::string> names;
  for (const ExpectationResult& e : report.expectations()) {
    if (e.result() != RESULT_PASS) names.push_back(e.name());
  }
  return names;
}

TEST(ShrinkPolicy, RestartingAloneNeverRecoversFromHeldPressure) {
  absl::StatusOr<Report> report =
      RunScenarioFileOnSim(kHeldPressure, RestartOnlyPolicyFactory());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(*report, Not(ScenarioPassed()));
  EXPECT_EQ(report->result(), RESULT_FAIL) << report->reason();
  EXPECT_THAT(FailedExpectations(*report),
              ElementsAre("all VMs healthy within the deadline"));
  // It kept trying, with backoff, and never gave up.
  EXPECT_GE(report->restarts().tried(), 2u);
  EXPECT_EQ(report->restarts().given_up(), 0u);
}

TEST(ShrinkPolicy, ShrinkingTheWorkingSetRecoversFromHeldPressure) {
  auto stats = std::make_shared<ShrinkStats>();
  absl::StatusOr<Report> report =
      RunScenarioFileOnSim(kHeldPressure, ShrinkingPolicyFactory({}, stats));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(*report, ScenarioPassed());
  // One shrink before the first restart: three of four BOs given up.
  EXPECT_EQ(stats->shrinks, 1u);
  EXPECT_EQ(stats->unbound, 3u);
  EXPECT_EQ(stats->bos_closed, 3u);
  EXPECT_EQ(report->restarts().tried(), 1u);
}

}  // namespace
}  // namespace xehil::examples
