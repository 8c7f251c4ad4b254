// gtest harness for proving a recovery policy against the scenario library:
// run a scenario file of the test's runfiles on a named environment
// (registry.h), most often a fresh simulated device. testonly:
// //environment:testing.
//
//   TEST(ShrinkPolicy, RecoversFromHeldVramPressure) {
//     auto report = RunScenarioFileOnSim(
//         "scenarios/held_vram_pressure.textproto",
//         [](const RecoveryConfig&) { return std::make_unique<Shrink>(); });
//     ASSERT_TRUE(report.ok()) << report.status();
//     EXPECT_THAT(*report, ScenarioPassed());
//   }
//
// The test's BUILD target lists the scenario files in `data`.
#ifndef XEHIL_ENVIRONMENT_TESTING_H_
#define XEHIL_ENVIRONMENT_TESTING_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/scenario/run_options.h"
#include "core/scenario/testing.h"  // IWYU pragma: export
#include "proto/scenario.pb.h"

namespace xehil {

// Loads the scenario at RunfilesPath(path) and runs it on the environment
// `environment` names (a plain "sim" takes the scenario's device_profile)
// with `policy` (null: the default policy configured from the scenario).
absl::StatusOr<Report> RunScenarioFileOn(absl::string_view environment,
                                         const std::string& path,
                                         PolicyFactory policy = nullptr);

// The same on a fresh simulated device (`profile`, else the scenario's
// device_profile, else "dg2-16g").
absl::StatusOr<Report> RunScenarioFileOnSim(const std::string& path,
                                            PolicyFactory policy = nullptr,
                                            std::string profile = "");

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_TESTING_H_
