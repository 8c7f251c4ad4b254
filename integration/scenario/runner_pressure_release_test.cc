// RunScenario when pressure cannot be given back at the end of a run: the
// report says so and the run does not pass.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/pressure/pressure_injector.h"
#include "core/pressure/pressure_lease.h"
#include "core/scenario/loader.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/runner.h"
#include "environment/sim_environment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/scenario/scenario_test_util.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

class StuckHolding : public PressureHolding {
 public:
  absl::Status Release() override {
    return absl::InternalError("munlock: the pages stay locked");
  }
};

// Grants any pressure; its leases cannot be released.
class StuckInjector : public PressureInjector {
 public:
  std::string Name() const override { return "stuck"; }
  absl::Status CheckAvailable() const override { return absl::OkStatus(); }
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override {
    return PressureLease::Create("stuck", spec.bytes,
                                 std::make_unique<StuckHolding>(),
                                 absl::ZeroDuration(), nullptr);
  }
};

TEST(RunScenario, PressureThatCannotBeReleasedAtTheEndIsIncomplete) {
  absl::StatusOr<Scenario> scenario =
      ParseScenarioText(absl::StrCat(scenario_test::kOneVm, R"pb(
                          name: "held_to_the_end"
                          steps {
                            inject_pressure {
                              region: MEMORY_REGION_SYSTEM
                              bytes: 4096
                              label: "held"
                            }
                          }
                          expectations {
                            name: "healthy"
                            within_ms: 10000
                            all_healthy {}
                          }
                        )pb"),
                        "inline");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  absl::StatusOr<RunEnvironment> env = MakeSimEnvironment("dg2-16g");
  ASSERT_TRUE(env.ok()) << env.status();
  StuckInjector stuck;
  env->pressure = &stuck;
  absl::StatusOr<Report> report = RunScenario(*scenario, *env, RunOptions());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->result(), RESULT_INCOMPLETE) << report->reason();
  EXPECT_THAT(report->reason(),
              HasSubstr("pressure still held after the run: releasing "
                        "'held': munlock: the pages stay locked failed"));
  EXPECT_EQ(scenario_test::Find(*report, "healthy")->result(), RESULT_PASS);
}

}  // namespace
}  // namespace xehil
