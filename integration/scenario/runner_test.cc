// RunScenario on the real simulator: passing and failing expectations,
// events scoped to files, listener end on removal, banned VMs.
#include "core/scenario/runner.h"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "integration/scenario/scenario_test_util.h"
#include "core/scenario/testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using scenario_test::Find;
using scenario_test::kOneVm;
using scenario_test::RunText;
using ::testing::Contains;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Property;
using ::testing::SizeIs;

constexpr char kTransientEnomem[] = R"pb(
  name: "transient_enomem"
  steps {
    fault {
      vm: "vm"
      fail_rebinds { count: 1 error: ERRNO_ENOMEM trigger: true }
    }
  }
  expectations {
    name: "recovered"
    within_ms: 10000
    all_healthy {}
  }
  expectations {
    within_ms: 10000
    events_seen {
      type: EVENT_TYPE_VM_ERR
      errors: ERRNO_ENOMEM
      count { min: 1 max: 1 }
    }
  }
  expectations {
    within_ms: 10000
    restarts { tried { min: 1 } }
  }
)pb";

TEST(RunScenario, TransientEnomemRecoversAndPasses) {
  std::mutex mu;
  std::vector<Progress> progress;
  RunOptions options;
  options.source = "inline";
  options.on_progress = [&](const Progress& p) {
    std::lock_guard<std::mutex> lock(mu);
    progress.push_back(p);
  };
  Report report = RunText(absl::StrCat(kOneVm, kTransientEnomem), options);
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_EQ(report.scenario(), "transient_enomem");
  EXPECT_EQ(report.source(), "inline");
  EXPECT_EQ(report.backend(), "sim");
  EXPECT_THAT(report.device(), HasSubstr("dg2-16g"));
  EXPECT_EQ(report.policy(), "default");
  EXPECT_EQ(report.events().vm_errors(), 1u);
  EXPECT_GE(report.restarts().succeeded(), 1u);
  EXPECT_EQ(report.latency().count(), 1u);
  EXPECT_THAT(report.expectations(), SizeIs(3));
  EXPECT_THAT(report.expectations(0).message(),
              HasSubstr("all_healthy: 1 of 1 VMs healthy"));
  EXPECT_THAT(report.expectations(1).name(),
              HasSubstr("events_seen VM_ERR -ENOMEM count 1"));
  EXPECT_THAT(report.timeline(),
              Contains(Property(&TimelineEntry::kind, "restart")));
  EXPECT_THAT(report.timeline(),
              Contains(Property(&TimelineEntry::error, -12)));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_THAT(progress,
              Contains(Field(&Progress::kind, Progress::Kind::kEvent)));
  EXPECT_EQ(progress.back().kind, Progress::Kind::kDone);
  EXPECT_EQ(progress.back().result, RESULT_PASS);
}

TEST(RunScenario, WrongExpectationFailsNamingIt) {
  Report report = RunText(absl::StrCat(kOneVm, kTransientEnomem, R"pb(
    expectations {
      name: "five errors"
      within_ms: 200
      events_seen {
        type: EVENT_TYPE_VM_ERR
        count { min: 5 }
      }
    }
  )pb"));
  EXPECT_EQ(report.result(), RESULT_FAIL);
  EXPECT_THAT(report.reason(), HasSubstr("1 of 4 expectations failed: "
                                         "five errors"));
  const ExpectationResult* e = Find(report, "five errors");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->result(), RESULT_FAIL);
  EXPECT_THAT(e->message(), HasSubstr("saw 1 (want >= 5)"));
  EXPECT_EQ(Find(report, "recovered")->result(), RESULT_PASS);
}

TEST(RunScenario, EventsStayOnTheirFile) {
  Report report = RunText(R"pb(
    name: "two_files"
    setup {
      files {
        name: "app"
        watch { watch_id: 1 }
        vms {
          name: "vm"
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 65536 }
        }
      }
      files {
        name: "other"
        watch { watch_id: 2 }
        vms {
          name: "bystander"
          flags: VM_FLAG_LR_MODE
          flags: VM_FLAG_RESTARTABLE
          bos { size_bytes: 65536 }
        }
      }
    }
    steps {
      fault {
        vm: "vm"
        fail_rebinds { count: 1 error: ERRNO_ENOMEM trigger: true }
      }
    }
    expectations {
      name: "recovered"
      within_ms: 10000
      all_healthy {}
    }
    expectations {
      name: "quiet"
      within_ms: 100
      no_event_for { file: "other" }
    }
    expectations {
      name: "noisy"
      within_ms: 100
      no_event_for { file: "app" }
    }
  )pb");
  EXPECT_EQ(Find(report, "quiet")->result(), RESULT_PASS);
  EXPECT_EQ(Find(report, "noisy")->result(), RESULT_FAIL);
  EXPECT_THAT(Find(report, "noisy")->message(), HasSubstr("VM_ERR"));
  EXPECT_EQ(Find(report, "recovered")->result(), RESULT_PASS);
}

TEST(RunScenario, ClosingTheFileEndsItsListenerOnRemoval) {
  Report report = RunText(absl::StrCat(kOneVm, R"pb(
    name: "close"
    steps { close_file: "app" }
    expectations {
      within_ms: 5000
      listener_ended { file: "app" on_removal: true }
    }
    expectations {
      within_ms: 5000
      events_seen {
        type: EVENT_TYPE_REMOVED
        count { min: 1 }
      }
    }
    expectations {
      within_ms: 5000
      vm_state { vm: "vm" outcome: VM_OUTCOME_GONE }
    }
  )pb"));
  EXPECT_THAT(report, ScenarioPassed());
  EXPECT_THAT(report.expectations(0).message(), HasSubstr("ended on removal"));
  EXPECT_EQ(report.events().removals(), 1u);
}

TEST(RunScenario, FailedRebindBansANonRestartableVm) {
  Report report = RunText(R"pb(
    name: "ban"
    setup {
      files {
        name: "app"
        watch {}
        vms {
          name: "lr"
          flags: VM_FLAG_LR_MODE
          bos { size_bytes: 4096 }
        }
      }
    }
    steps {
      fault {
        vm: "lr"
        fail_rebinds { count: 1 error: ERRNO_ENOMEM trigger: true }
      }
    }
    expectations {
      within_ms: 5000
      vm_state { vm: "lr" outcome: VM_OUTCOME_BANNED }
    }
    expectations {
      name: "healthy"
      within_ms: 50
      all_healthy {}
    }
    expectations {
      within_ms: 50
      no_event_for { file: "app" }
    }
  )pb");
  EXPECT_EQ(report.result(), RESULT_FAIL);
  EXPECT_EQ(report.expectations(0).result(), RESULT_PASS)
      << report.expectations(0).message();
  EXPECT_THAT(report.expectations(0).message(), HasSubstr("banned (-ENOMEM)"));
  EXPECT_THAT(Find(report, "healthy")->message(),
              HasSubstr("0 of 1 VMs healthy after 5"));
  EXPECT_THAT(Find(report, "healthy")->message(),
              HasSubstr("lr banned (-ENOMEM)"));
  EXPECT_EQ(report.expectations(2).result(), RESULT_PASS);
}

}  // namespace
}  // namespace xehil
