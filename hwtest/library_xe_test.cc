// The scenario library on a real xe device: each scenario is one test case,
// run on the "xe" environment (environment/registry.h: a new DRM file per
// Setup.files entry, the xe VRAM hog for pressure, the default recovery
// policy). Steps the environment cannot do are skipped by the runner with
// the environment's reason, and this suite prints them per scenario: on a
// real xe host that is every scripted fault (the driver cannot fail one VM's
// rebinds on demand); inside `xehil vm-run` the vxe guest daemon does them
// all. A scenario that could not run every step and did not pass anyway is a
// skip.
//
// Where there is no xe render node, or the kernel lacks watch-queue support
// (CONFIG_WATCH_QUEUE), every case is skipped with the reason, and the
// target passes. Run it with `bazel test --config=xe //hwtest/...`.
//
// Built with XEHIL_HWTEST_ON_SIM (the library_on_sim_test target), the same
// cases run on a fresh simulated device each, so this source is exercised
// by every `bazel test //...` and not only on xe hosts.
#include <iostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/backend/drm_backend.h"
#include "core/scenario/loader.h"
#include "core/scenario/runner.h"
#include "core/scenario/testing.h"
#include "environment/registry.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/scenario.pb.h"
#include "scenarios/library_cases.h"

namespace xehil {
namespace {

#ifdef XEHIL_HWTEST_ON_SIM
constexpr char kEnvironment[] = "sim";
#else
constexpr char kEnvironment[] = "xe";

// Why this machine cannot run the suite, or OK. Asked once per process.
const absl::Status& XeUnavailable() {
  static const absl::Status* const status = [] {
    absl::StatusOr<std::string> node = FindXeRenderNode();
    if (!node.ok()) return new absl::Status(node.status());
    absl::Status watch = ProbeWatchQueueSupport();
    if (!watch.ok()) return new absl::Status(watch);
    return new absl::Status();
  }();
  return *status;
}
#endif  // XEHIL_HWTEST_ON_SIM

class LibraryOnXe : public ::testing::TestWithParam<LibraryCase> {};

TEST_P(LibraryOnXe, Passes) {
#ifndef XEHIL_HWTEST_ON_SIM
  if (!XeUnavailable().ok()) {
    GTEST_SKIP() << "no xe device to run on: " << XeUnavailable();
  }
#endif
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile(RunfilesPath(GetParam().path));
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  EnvironmentDefaults defaults;
  defaults.sim_profile = scenario->device_profile();
  absl::StatusOr<RunEnvironment> env = OpenEnvironment(kEnvironment, defaults);
  ASSERT_TRUE(env.ok()) << env.status();
  RunOptions options;
  options.source = GetParam().path;
  absl::StatusOr<Report> report = RunScenario(*scenario, *env, options);
  ASSERT_TRUE(report.ok()) << report.status();
  // What this environment could not do, per scenario, in the test log.
  for (const std::string& skipped : report->skipped_steps()) {
    std::cout << report->scenario() << " on " << kEnvironment << ": skipped "
              << skipped << "\n";
  }
  ::testing::Test::RecordProperty("skipped_steps",
                                  absl::StrJoin(report->skipped_steps(), "; "));
  if (report->result() == RESULT_SKIP) {
    GTEST_SKIP() << report->scenario() << " on " << report->device() << ": "
                 << report->reason();
  }
  EXPECT_THAT(*report, ScenarioPassed());
}

INSTANTIATE_TEST_SUITE_P(Scenarios, LibraryOnXe,
                         ::testing::ValuesIn(ListLibraryCases()),
                         LibraryCaseName);

TEST(LibraryOnXe, EveryScenarioFileIsACase) {
  EXPECT_GE(ListLibraryCases().size(), kMinLibrarySize);
}

}  // namespace
}  // namespace xehil
