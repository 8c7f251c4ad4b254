// RunScenario at its limits: timeouts, devices lacking what the setup needs,
// a backend without the simulator's fault script or a pressure injector,
// invalid scenarios.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "core/scenario/runner.h"
#include "core/scenario/testing.h"
#include "environment/sim_environment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/scenario/scenario_test_util.h"
#include "sim/address_space_cap.h"

namespace xehil {
namespace {

using scenario_test::Find;
using scenario_test::kOneVm;
using scenario_test::Parse;
using scenario_test::RunText;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

TEST(RunScenario, LongWaitTimesOut) {
  Report report = RunText(absl::StrCat(kOneVm, R"pb(
    name: "slow"
    timeout_ms: 200
    steps { wait_ms: 60000 }
    expectations { all_healthy {} }
  )pb"));
  EXPECT_EQ(report.result(), RESULT_TIMEOUT);
  EXPECT_THAT(report.reason(), HasSubstr("timed out after 200 ms in steps[0]"));
  EXPECT_LT(report.duration_ms(), 10000u);
  EXPECT_EQ(report.expectations(0).result(), RESULT_SKIP);
}

TEST(RunScenario, ExpectationPastTheDeadlineTimesOut) {
  Report report = RunText(absl::StrCat(kOneVm, R"pb(
    name: "never"
    timeout_ms: 300
    expectations {
      name: "never"
      within_ms: 60000
      events_seen { count { min: 1 } }
    }
    expectations {
      name: "later"
      all_healthy {}
    }
  )pb"));
  EXPECT_EQ(report.result(), RESULT_TIMEOUT);
  EXPECT_THAT(report.reason(), HasSubstr("expectation 'never'"));
  EXPECT_EQ(Find(report, "never")->result(), RESULT_TIMEOUT);
  EXPECT_EQ(Find(report, "later")->result(), RESULT_SKIP);
}

TEST(RunScenario, TimeoutCoversTheSetup) {
  // 65536 VMs take far longer than 1 ms to create: the setup must stop at
  // the deadline instead of creating them all first.
  Report report = RunText(R"pb(
    name: "crowd"
    timeout_ms: 1
    setup {
      files {
        name: "a"
        vms {
          name: "vm"
          count: 65536
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 4096 placement: PLACEMENT_SYSTEM_ONLY }
        }
      }
    }
    expectations { all_healthy {} }
  )pb");
  EXPECT_EQ(report.result(), RESULT_TIMEOUT);
  EXPECT_THAT(report.reason(), HasSubstr("timed out after 1 ms in setup: "));
  EXPECT_THAT(report.reason(), HasSubstr(" of 65536 VMs created"));
  EXPECT_THAT(report.reason(), Not(HasSubstr("65536 of 65536")));
  EXPECT_EQ(report.expectations(0).result(), RESULT_SKIP);
}

TEST(RunScenario, AThreadThatCannotStartEndsTheRunIncomplete) {
  if (sim::testing::kUnderSanitizer) {
    GTEST_SKIP() << "RLIMIT_AS cannot make thread creation fail under a "
                    "sanitizer: it maps memory of its own for each thread";
  }
  const Scenario scenario = Parse(absl::StrCat(kOneVm, R"pb(name: "nproc")pb"));
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        absl::StatusOr<RunEnvironment> env = MakeSimEnvironment("dg2-16g");
        if (!env.ok()) _exit(3);
        // One joined thread leaves its stack in glibc's cache: the engine's
        // worker reuses it, the next thread (the engine watcher) needs a
        // new mapping, which the cap refuses.
        std::thread([] {}).join();
        if (!sim::testing::CapAddressSpace(1 << 20)) _exit(4);
        absl::StatusOr<Report> report = RunScenario(scenario, *env, {});
        if (!report.ok()) _exit(5);
        std::fprintf(stderr, "%s: %s\n", Result_Name(report->result()).c_str(),
                     report->reason().c_str());
        _exit(report->result() == RESULT_INCOMPLETE ? 0 : 1);
      },
      ::testing::ExitedWithCode(0),
      "RESULT_INCOMPLETE: .*engine watcher of 'app'.*EAGAIN");
}

TEST(RunScenario, VramOnlyBoOnIntegratedDeviceSkips) {
  absl::StatusOr<Report> report = RunScenarioOnSim(
      Parse(R"pb(
        name: "vram"
        setup {
          files {
            name: "a"
            vms {
              name: "v"
              bos { size_bytes: 4096 placement: PLACEMENT_VRAM_ONLY }
            }
          }
        }
      )pb"),
      {}, "lnl-igpu");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->result(), RESULT_SKIP);
  EXPECT_THAT(report->reason(), HasSubstr("setup.files[0].vms[0].bos[0]"));
  EXPECT_THAT(report->reason(), HasSubstr("VRAM"));
}

TEST(RunScenario, WithoutCapabilitiesFaultsAndPressureAreSkippedWithTheReason) {
  absl::StatusOr<RunEnvironment> sim = MakeSimEnvironment("dg2-16g");
  ASSERT_TRUE(sim.ok()) << sim.status();
  RunEnvironment hardware_like;  // files on a device, nothing else
  hardware_like.open_file = sim->open_file;
  hardware_like.faults_missing = "no faults on this test device";
  hardware_like.pressure_missing = "no hog on this test device";
  hardware_like.backend_name = "xe";
  hardware_like.device_description = "test device";
  absl::StatusOr<Report> report =
      RunScenario(Parse(absl::StrCat(kOneVm, R"pb(
                    name: "no_sim"
                    steps {
                      fault {
                        vm: "vm"
                        fail_rebinds { count: 1 error: ERRNO_ENOMEM }
                      }
                    }
                    steps { inject_pressure { bytes: 4096 label: "p" } }
                    steps { release_pressure: "p" }
                    expectations {
                      name: "recovered"
                      within_ms: 1000
                      all_healthy {}
                    }
                  )pb")),
                  hardware_like, {});
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_THAT(report->skipped_steps(), SizeIs(3));
  EXPECT_THAT(report->skipped_steps(0),
              HasSubstr("steps[0] (fault: fail the next 1 rebind(s) of VM "
                        "'vm' with -ENOMEM"));
  EXPECT_THAT(report->skipped_steps(2), HasSubstr("was skipped"));
  EXPECT_THAT(report->skipped_steps(0),
              HasSubstr("no faults on this test device"));
  EXPECT_THAT(report->skipped_steps(1),
              HasSubstr("no hog on this test device"));
  // The expectations still run.
  EXPECT_THAT(*report, ScenarioPassed());
  EXPECT_EQ(report->backend(), "xe");
}

TEST(RunScenario, InvalidScenarioIsAnErrorNamingTheSource) {
  absl::StatusOr<RunEnvironment> env = MakeSimEnvironment("");
  ASSERT_TRUE(env.ok());
  Scenario bad;
  RunOptions options;
  options.source = "bad.textproto";
  absl::StatusOr<Report> report = RunScenario(bad, *env, options);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("bad.textproto: name"));
}

TEST(RunScenario, FailureAfterStepsThatCouldNotRunIsASkipNamingThem) {
  absl::StatusOr<RunEnvironment> sim = MakeSimEnvironment("dg2-16g");
  ASSERT_TRUE(sim.ok()) << sim.status();
  RunEnvironment hardware_like;
  hardware_like.open_file = sim->open_file;
  hardware_like.faults_missing = "no faults on this test device";
  hardware_like.backend_name = "xe";
  hardware_like.device_description = "test device";
  absl::StatusOr<Report> report =
      RunScenario(Parse(absl::StrCat(kOneVm, R"pb(
                    name: "needs_fault"
                    steps {
                      fault {
                        vm: "vm"
                        fail_rebinds { count: 1 error: ERRNO_ENOMEM }
                      }
                    }
                    expectations {
                      name: "saw the error"
                      events_seen {
                        type: EVENT_TYPE_VM_ERR
                        count { min: 1 }
                      }
                    }
                  )pb")),
                  hardware_like, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->result(), RESULT_SKIP);
  EXPECT_THAT(report->reason(), HasSubstr("could not run every step here"));
  EXPECT_THAT(report->reason(), HasSubstr("no faults on this test device"));
  EXPECT_THAT(report->reason(), HasSubstr("would be RESULT_FAIL"));
  ASSERT_THAT(report->expectations(), SizeIs(1));
  EXPECT_EQ(report->expectations(0).result(), RESULT_FAIL);
}

}  // namespace
}  // namespace xehil
