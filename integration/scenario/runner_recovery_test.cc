// RunScenario through the harder recovery paths on the real simulator: a
// late listener whose small ring overflowed (LOST, then reconcile), held
// VRAM pressure (ENOSPC until released), a VM destroyed before its restart
// (benign -ENOENT), and a custom policy.
#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/recovery/default_policy.h"
#include "core/scenario/loader.h"
#include "core/scenario/runner.h"
#include "core/scenario/testing.h"
#include "environment/sim_environment.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

Report RunText(const std::string& text, RunOptions options = {}) {
  absl::StatusOr<Scenario> s = ParseScenarioText(text, "test.textproto");
  EXPECT_TRUE(s.ok()) << s.status();
  if (!s.ok()) return Report();
  absl::StatusOr<Report> report = RunScenarioOnSim(*s, options);
  EXPECT_TRUE(report.ok()) << report.status();
  return report.value_or(Report());
}

TEST(RunScenarioRecovery, LateListenerOnSmallRingSeesLossAndReconciles) {
  // 40 VMs fail at once while nobody reads a 32-note ring: 8 records are
  // lost, and the reconcile after the loss record restarts those VMs too.
  Report report = RunText(R"pb(
    name: "overflow"
    setup {
      files {
        name: "app"
        watch { ring_notes: 1 start_after_step: 0 }
        vms {
          name: "vm"
          count: 40
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 4096 placement: PLACEMENT_SYSTEM_ONLY }
        }
      }
    }
    steps {
      fault {
        file: "app"
        fail_rebinds {
          count: 1
          error: ERRNO_ENOMEM
          trigger: true
          all_vms_of_file: true
        }
      }
    }
    expectations {
      within_ms: 10000
      events_seen {
        type: EVENT_TYPE_LOST
        count { min: 1 max: 1 }
      }
    }
    expectations {
      within_ms: 10000
      events_seen {
        type: EVENT_TYPE_VM_ERR
        count { min: 32 max: 32 }
      }
    }
    expectations {
      within_ms: 10000
      all_healthy {}
    }
    expectations {
      within_ms: 10000
      restarts { reconciles { min: 1 } }
    }
    expectations {
      within_ms: 10000
      vm_state { vm: "vm39" outcome: VM_OUTCOME_HEALTHY }
    }
  )pb");
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_EQ(report.events().losses(), 1u);
  EXPECT_THAT(report.expectations(2).message(),
              HasSubstr("40 of 40 VMs healthy"));
}

TEST(RunScenarioRecovery, HeldVramPressureRecoversOnceReleased) {
  Report report = RunText(R"pb(
    name: "held_vram"
    recovery { max_backoff_ms: 5 }
    setup {
      files {
        name: "app"
        watch {}
        vms {
          name: "vm"
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 1048576 placement: PLACEMENT_VRAM_ONLY }
        }
      }
    }
    steps {
      inject_pressure {
        region: MEMORY_REGION_VRAM
        fraction_of_total: 1
        label: "vram"
      }
    }
    steps { wait_restarts: 2 note: "restarts fail while the pressure is held" }
    steps { release_pressure: "vram" }
    expectations {
      within_ms: 10000
      all_healthy {}
    }
    expectations {
      within_ms: 10000
      events_seen {
        errors: ERRNO_ENOSPC
        count { min: 2 }
      }
    }
    expectations {
      within_ms: 10000
      restarts { tried { min: 2 } }
    }
    expectations {
      within_ms: 10000
      latency { max_us: 30000000 }
    }
  )pb");
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_GE(report.latency().count(), 1u);
  EXPECT_TRUE(report.skipped_steps().empty());
}

TEST(RunScenarioRecovery, DestroyedBeforeRestartIsBenignEnoent) {
  Report report = RunText(R"pb(
    name: "destroyed"
    setup {
      files {
        name: "app"
        watch { start_after_step: 1 }
        vms {
          name: "vm"
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 4096 placement: PLACEMENT_SYSTEM_ONLY }
        }
      }
    }
    steps {
      fault {
        vm: "vm"
        fail_rebinds { count: 1 error: ERRNO_ENOSPC trigger: true }
      }
    }
    steps { destroy_vm: "vm" }
    expectations {
      within_ms: 10000
      restarts {
        benign { min: 1 max: 1 }
        failed { max: 0 }
      }
    }
    expectations {
      within_ms: 10000
      vm_state { vm: "vm" outcome: VM_OUTCOME_GONE }
    }
    expectations {
      within_ms: 10000
      all_healthy {}
    }
  )pb");
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_THAT(report.expectations(0).message(), HasSubstr("benign 1"));
}

TEST(RunScenarioRecovery, CustomPolicyDecisionsShowInTheReport) {
  // A policy that reports every VM error instead of restarting: the VM stays
  // paused in the simulator and REPORTED in the engine.
  class ReportAll : public DefaultRecoveryPolicy {
   public:
    explicit ReportAll(std::atomic<int>* made) { ++*made; }
    Decision OnVmError(RecoveryContext&, const VmError&,
                       const VmStatus&) override {
      return Decision::Report("test policy reports everything");
    }
  };
  std::atomic<int> made{0};
  RunOptions options;
  options.policy_name = "report-all";
  options.policy_factory = [&made](const RecoveryConfig&) {
    return std::make_unique<ReportAll>(&made);
  };
  Report report =
      RunText(R"pb(
                name: "reported"
                setup {
                  files {
                    name: "app"
                    watch {}
                    vms {
                      name: "vm"
                      flags: VM_FLAG_LR_MODE
                      flags: VM_FLAG_RESTARTABLE
                      bos { size_bytes: 4096 }
                    }
                  }
                  files { name: "unwatched" }
                }
                steps {
                  fault {
                    vm: "vm"
                    fail_rebinds { count: 1 error: ERRNO_ENOSPC trigger: true }
                  }
                }
                expectations {
                  within_ms: 10000
                  vm_state { vm: "vm" outcome: VM_OUTCOME_REPORTED }
                }
                expectations {
                  within_ms: 10000
                  vm_state { vm: "vm" outcome: VM_OUTCOME_PAUSED }
                }
                expectations {
                  within_ms: 10000
                  restarts {
                    tried { max: 0 }
                    reported { min: 1 max: 1 }
                  }
                }
              )pb",
              options);
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_EQ(report.policy(), "report-all");
  EXPECT_EQ(made.load(), 1);  // one engine: one watched file
  EXPECT_THAT(report.expectations(0).message(),
              HasSubstr("test policy reports everything"));
}

}  // namespace
}  // namespace xehil
