// The scenario library (scenarios/*.textproto) on a real xe device: each
// scenario is one test case, run through DrmBackend (a new DRM file per
// Setup.files entry) with the xe VRAM pressure injector and the default
// recovery policy. There is no simulated device: scenarios tagged "sim-only"
// are skipped up front, and one whose steps the runner had to skip (scripted
// faults, pressure without an injector) is a skip unless it passed anyway.
//
// Where there is no xe render node, or the kernel lacks watch-queue support
// (CONFIG_WATCH_QUEUE), every case is skipped with the reason, and the
// target passes. Run it with `bazel test --config=xe //hwtest/...`.
//
// Built with XEHIL_HWTEST_ON_SIM (the library_on_sim_test target), the same
// cases run on a fresh simulated device each, so this source is exercised
// by every `bazel test //...` and not only on xe hosts.
#include <iostream>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/backend/drm_backend.h"
#include "core/backend/kernel_backend.h"
#include "core/pressure/bo_pressure_injector.h"
#include "core/scenario/loader.h"
#include "core/scenario/run_environment.h"
#include "core/scenario/runner.h"
#include "core/scenario/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/scenario.pb.h"
#include "scenarios/library_cases.h"

namespace xehil {
namespace {

#ifndef XEHIL_HWTEST_ON_SIM
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

// A hardware environment: every file is a new open of the first xe render
// node; VRAM pressure comes from BOs on a file of their own. Where that
// injector cannot work, env.pressure stays null and the runner skips the
// pressure steps with a reason.
struct XeEnvironment {
  RunEnvironment env;
  std::unique_ptr<BoPressureInjector> injector;
};

absl::StatusOr<std::unique_ptr<XeEnvironment>> MakeXeEnvironment() {
  XEHIL_ASSIGN_OR_RETURN(std::string path, FindXeRenderNode());
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> probe,
                         DrmBackend::Open(path));
  auto xe = std::make_unique<XeEnvironment>();
  xe->env.backend_name = "xe";
  xe->env.device_description = probe->Description();
  xe->env.open_file =
      [path]() -> absl::StatusOr<std::unique_ptr<KernelBackend>> {
    XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> backend,
                           DrmBackend::Open(path));
    return std::unique_ptr<KernelBackend>(std::move(backend));
  };
  xe->injector = MakeXeVramInjector(path);
  absl::Status pressure = xe->injector->CheckAvailable();
  if (pressure.ok()) {
    xe->env.pressure = xe->injector.get();
  } else {
    std::cerr << "no VRAM pressure on this device, pressure steps will be "
                 "skipped: "
              << pressure << "\n";
  }
  return xe;
}
#endif  // XEHIL_HWTEST_ON_SIM

class LibraryOnXe : public ::testing::TestWithParam<LibraryCase> {};

TEST_P(LibraryOnXe, Passes) {
  absl::StatusOr<Scenario> scenario =
      LoadScenarioFile(RunfilesPath(GetParam().path));
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  RunOptions options;
  options.source = GetParam().path;

#ifdef XEHIL_HWTEST_ON_SIM
  absl::StatusOr<RunEnvironment> env =
      MakeSimEnvironment(SimProfileFor(scenario->device_profile(), ""));
  ASSERT_TRUE(env.ok()) << env.status();
  absl::StatusOr<Report> report = RunScenario(*scenario, *env, options);
#else
  if (!XeUnavailable().ok()) {
    GTEST_SKIP() << "no xe device to run on: " << XeUnavailable();
  }
  for (const std::string& tag : scenario->tags()) {
    if (tag == "sim-only") {
      GTEST_SKIP() << scenario->name()
                   << " is tagged sim-only (scripted faults need the "
                      "simulator)";
    }
  }
  absl::StatusOr<std::unique_ptr<XeEnvironment>> xe = MakeXeEnvironment();
  ASSERT_TRUE(xe.ok()) << xe.status();
  absl::StatusOr<Report> report = RunScenario(*scenario, (*xe)->env, options);
#endif
  ASSERT_TRUE(report.ok()) << report.status();
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
