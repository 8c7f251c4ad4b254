// The gtest harness: scenario files from the runfiles, ScenarioPassed()'s
// explanation of a failed run.
#include "environment/testing.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/recovery/default_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kScenario[] = "environment/testdata/transient_enomem.textproto";

TEST(RunScenarioFileOnSim, RunsAScenarioFileWithTheDefaultPolicy) {
  absl::StatusOr<Report> report = RunScenarioFileOnSim(kScenario);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(*report, ScenarioPassed());
  EXPECT_EQ(report->source(), kScenario);
  EXPECT_THAT(report->device(), HasSubstr("dg2-16g"));
}

TEST(RunScenarioFileOnSim, TakesAPolicyAndAProfile) {
  int made = 0;
  absl::StatusOr<Report> report = RunScenarioFileOnSim(
      kScenario,
      [&made](const RecoveryConfig&) {
        ++made;
        return std::make_unique<DefaultRecoveryPolicy>();
      },
      "bmg-12g");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_THAT(*report, ScenarioPassed());
  EXPECT_EQ(made, 1);
  EXPECT_THAT(report->device(), HasSubstr("bmg-12g"));
}

TEST(RunScenarioFileOnSim, MissingFileIsNotFound) {
  absl::StatusOr<Report> report = RunScenarioFileOnSim("core/scenario/nope");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound);
}

TEST(ScenarioPassed, ExplainsEveryFailedExpectation) {
  Report report;
  report.set_scenario("held");
  report.set_result(RESULT_FAIL);
  report.set_reason("2 of 3 expectations failed");
  ExpectationResult* a = report.add_expectations();
  a->set_name("recovered");
  a->set_result(RESULT_FAIL);
  a->set_message("all_healthy: 0 of 1 VMs healthy after 500 ms: vm paused");
  ExpectationResult* b = report.add_expectations();
  b->set_name("fine");
  b->set_result(RESULT_PASS);
  ExpectationResult* c = report.add_expectations();
  c->set_name("restarted");
  c->set_result(RESULT_FAIL);
  c->set_message("restarts: tried 0 (want >= 1) MISMATCH");

  ::testing::StringMatchResultListener listener;
  EXPECT_FALSE(ScenarioPassed().MatchAndExplain(report, &listener));
  const std::string why = listener.str();
  EXPECT_THAT(why, HasSubstr("ended FAIL: 2 of 3 expectations failed"));
  EXPECT_THAT(why, HasSubstr("FAIL recovered: all_healthy: 0 of 1 VMs"));
  EXPECT_THAT(why, HasSubstr("FAIL restarted: restarts: tried 0"));
  EXPECT_THAT(why, Not(HasSubstr("fine")));

  report.set_result(RESULT_PASS);
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_THAT(report, ScenarioResultIs(RESULT_PASS));
  EXPECT_THAT(report, Not(ScenarioResultIs(RESULT_SKIP)));
}

TEST(ScenarioPassed, FailureShowsExpectationsFirstThenTheTimelineTail) {
  Report report;
  report.set_scenario("long");
  report.set_result(RESULT_FAIL);
  ExpectationResult* e = report.add_expectations();
  e->set_name("recovered");
  e->set_result(RESULT_FAIL);
  e->set_message("vm 7 still paused");
  for (int i = 0; i < 500; ++i) {
    TimelineEntry* t = report.add_timeline();
    t->set_t_us(static_cast<uint64_t>(i));
    t->set_kind("event");
    t->set_detail(absl::StrCat("entry-", i, "."));
  }
  // What a failing EXPECT_THAT(report, ScenarioPassed()) prints.
  const std::string failure = ::testing::PrintToString(report) + ", " + [&] {
    ::testing::StringMatchResultListener listener;
    ScenarioPassed().MatchAndExplain(report, &listener);
    return listener.str();
  }();
  EXPECT_THAT(failure, HasSubstr("Report{scenario 'long' FAIL, 1 expectations, "
                                 "500 timeline entries}"));
  EXPECT_THAT(failure, Not(HasSubstr("entry-479.")));
  EXPECT_THAT(failure, HasSubstr("entry-480."));
  EXPECT_THAT(failure, HasSubstr("entry-499."));
  EXPECT_LT(failure.find("vm 7 still paused"), failure.find("entry-480."));
  EXPECT_LT(std::count(failure.begin(), failure.end(), '\n'), 30);
}

}  // namespace
}  // namespace xehil
