// Runs every scenario of the library (scenarios/*.textproto) on the
// simulator with the default recovery policy, each as its own test case,
// and expects it to pass. A scenario that fails prints its failed
// expectations (ScenarioPassed explains).
#include <iostream>

#include "absl/status/statusor.h"
#include "environment/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/scenario.pb.h"
#include "scenarios/library_cases.h"

namespace xehil {
namespace {

class LibraryOnSim : public ::testing::TestWithParam<LibraryCase> {};

TEST_P(LibraryOnSim, PassesWithTheDefaultPolicy) {
  absl::StatusOr<Report> report = RunScenarioFileOnSim(GetParam().path);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->backend(), "sim");
  EXPECT_THAT(*report, ScenarioPassed());
  // What each expectation saw, for the test log.
  for (const ExpectationResult& e : report->expectations()) {
    std::cout << "  " << Result_Name(e.result()) << " " << e.name() << ": "
              << e.message() << "\n";
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, LibraryOnSim,
                         ::testing::ValuesIn(ListLibraryCases()),
                         LibraryCaseName);

TEST(Library, EveryScenarioFileIsACase) {
  EXPECT_GE(ListLibraryCases().size(), kMinLibrarySize);
}

}  // namespace
}  // namespace xehil
