#include "integration/scenario/scenario_test_util.h"

#include "core/scenario/loader.h"
#include "environment/sim_environment.h"
#include "gtest/gtest.h"

namespace xehil::scenario_test {

Scenario Parse(const std::string& text) {
  absl::StatusOr<Scenario> s = ParseScenarioText(text, "test.textproto");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.value_or(Scenario());
}

Report RunText(const std::string& text, RunOptions options) {
  absl::StatusOr<Report> report = RunScenarioOnSim(Parse(text), options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.value_or(Report());
}

const ExpectationResult* Find(const Report& report, const std::string& name) {
  for (const ExpectationResult& e : report.expectations()) {
    if (e.name() == name) return &e;
  }
  ADD_FAILURE() << "no expectation '" << name << "' in the report";
  return nullptr;
}

}  // namespace xehil::scenario_test
