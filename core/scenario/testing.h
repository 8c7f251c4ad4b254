// gtest matchers for scenario reports, and where a test's scenario files
// are. testonly: //core/scenario:testing. Running scenario files on an
// environment is //environment:testing.
//
//   EXPECT_THAT(*report, ScenarioPassed());
#ifndef XEHIL_CORE_SCENARIO_TESTING_H_
#define XEHIL_CORE_SCENARIO_TESTING_H_

#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "core/scenario/runner.h"
#include "gmock/gmock.h"
#include "proto/scenario.pb.h"

namespace xehil {

// Where `path` (relative to the workspace root, e.g.
// "scenarios/transient_enomem.textproto") is in the test's runfiles
// ($TEST_SRCDIR/$TEST_WORKSPACE/path); `path` itself outside a test.
std::string RunfilesPath(const std::string& path);

// Matches a Report whose result is RESULT_PASS. On mismatch it explains the
// result, the reason and every failed expectation's name and message first,
// then the last kTimelineTail timeline entries.
::testing::Matcher<const Report&> ScenarioPassed();

inline constexpr int kTimelineTail = 20;

// Matches a Report with the given result (same explanation).
::testing::Matcher<const Report&> ScenarioResultIs(Result result);

// How gtest prints a Report in a failure: one line (scenario, result, sizes)
// instead of the whole message, so the matcher's explanation stays in view.
void PrintTo(const Report& report, std::ostream* os);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_TESTING_H_
