#include "sim/simd/rules.h"

#include <cerrno>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"
#include "sim/simd/script.h"

namespace xehil::simd {
namespace {

// NOLINTNEXTLINE(google-build-using-namespace)
using namespace ::xehil::sim::testing;  // NOLINT(build/namespaces)
using ::testing::HasSubstr;

class RuleEngineTest : public ::testing::Test {
 protected:
  void Load(const std::string& text) {
    absl::StatusOr<sim::SimdScript> script = ParseScriptText(text, "test");
    ASSERT_TRUE(script.ok()) << script.status();
    rules_.AddRules(*script);
  }
  FileRef Ref(const sim::SimBackend& file, const std::string& program = "p") {
    return {file.file_id(), 42, program};
  }
  std::vector<std::string> Log() {
    absl::MutexLock lock(&mu_);
    return log_;
  }
  sim::VmState State(const sim::SimBackend& file, uint32_t vm) {
    return device_->GetVm(file.file_id(), vm)->state;
  }

  std::shared_ptr<sim::Device> device_ = sim::Device::Create(TinyProfile());
  absl::Mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  RuleEngine rules_{device_, [this](const std::string& line) {
                      absl::MutexLock lock(&mu_);
                      log_.push_back(line);
                    }};
};

TEST_F(RuleEngineTest, WatchRuleFailsAndTriggersEveryRestartableVm) {
  Load(R"pb(rule {
              when { watch_subscribed { nth: 2 } }
              action { fail_rebinds { error: ERRNO_ENOSPC } }
              action { trigger_rebind {} }
            })pb");
  std::unique_ptr<sim::SimBackend> file = device_->Open();
  uint32_t a = 0, b = 0, plain = 0;
  ASSERT_EQ(VmCreate(*file, kRestartable, &a), 0);
  ASSERT_EQ(VmCreate(*file, kRestartable, &b), 0);
  ASSERT_EQ(VmCreate(*file, kLr, &plain), 0);

  rules_.OnEvent(RuleEvent::kWatchSubscribed, Ref(*file), 0);  // 1st: no
  device_->WaitIdle();
  EXPECT_EQ(State(*file, a), sim::VmState::kHealthy);
  rules_.OnEvent(RuleEvent::kWatchSubscribed, Ref(*file), 0);  // 2nd
  device_->WaitIdle();
  EXPECT_EQ(State(*file, a), sim::VmState::kPaused);
  EXPECT_EQ(State(*file, b), sim::VmState::kPaused);
  EXPECT_EQ(State(*file, plain), sim::VmState::kHealthy);
  EXPECT_EQ(device_->counters().vms_paused, 2u);

  std::vector<sim::RuleStatus> status = rules_.Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].fired(), 1u);
  EXPECT_EQ(status[0].errors(), 0u);
  EXPECT_THAT(Log(), ::testing::Contains(HasSubstr("watch subscribed #2")));
  EXPECT_THAT(Log(), ::testing::Contains(HasSubstr("-ENOSPC")));
  EXPECT_THAT(Log(), ::testing::Contains(HasSubstr("on VM 1, 2")));
}

TEST_F(RuleEngineTest, VmRulesTargetTheEventsVmAndCountTimesAcrossFiles) {
  Load(R"pb(rule {
              when { vm_created {} }
              action { restart_eagain: 1 }
              action { fail_rebinds { error: ERRNO_EIO } }
              action { trigger_rebind {} }
              times: 2
            })pb");
  std::unique_ptr<sim::SimBackend> one = device_->Open();
  std::unique_ptr<sim::SimBackend> two = device_->Open();
  uint32_t vms[3] = {};
  ASSERT_EQ(VmCreate(*one, kLr, &vms[0]), 0);
  rules_.OnEvent(RuleEvent::kVmCreated, Ref(*one), vms[0]);
  ASSERT_EQ(VmCreate(*two, kLr, &vms[1]), 0);
  rules_.OnEvent(RuleEvent::kVmCreated, Ref(*two), vms[1]);
  ASSERT_EQ(VmCreate(*two, kLr, &vms[2]), 0);
  rules_.OnEvent(RuleEvent::kVmCreated, Ref(*two), vms[2]);
  device_->WaitIdle();
  // -EIO bans a VM; the rule's third firing was over its `times`.
  EXPECT_EQ(State(*one, vms[0]), sim::VmState::kBanned);
  EXPECT_EQ(State(*two, vms[1]), sim::VmState::kBanned);
  EXPECT_EQ(State(*two, vms[2]), sim::VmState::kHealthy);
  EXPECT_EQ(rules_.Status()[0].fired(), 2u);
}

TEST_F(RuleEngineTest, ProgramFilterAndFileOpenedOrdinal) {
  Load(R"pb(rule {
              program: "hog"
              when { file_opened { nth: 2 } }
              action {
                inject_pressure { region: MEMORY_REGION_VRAM bytes: 1048576 }
              }
            })pb");
  std::unique_ptr<sim::SimBackend> a = device_->Open();
  std::unique_ptr<sim::SimBackend> b = device_->Open();
  std::unique_ptr<sim::SimBackend> c = device_->Open();
  rules_.OnEvent(RuleEvent::kFileOpened, Ref(*a, "/bin/hog"), 0);
  rules_.OnEvent(RuleEvent::kFileOpened, Ref(*b, "other"), 0);
  EXPECT_EQ(device_->Regions()[1].pressure, 0u);
  rules_.OnEvent(RuleEvent::kFileOpened, Ref(*c, "hog"), 0);
  EXPECT_EQ(device_->Regions()[1].pressure, sim::kMiB);
}

TEST_F(RuleEngineTest, FailedActionsAreCountedAndTheRestStillRun) {
  Load(R"pb(rule {
              when { vm_bound {} }
              action { trigger_rebind {} }
              action { drop_records: 1 }
              action { release_pressure { bytes: 4096 } }
            })pb");
  std::unique_ptr<sim::SimBackend> file = device_->Open();
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file, 0, &vm), 0);  // not LR: no rebind worker
  rules_.OnEvent(RuleEvent::kVmBound, Ref(*file), vm);
  std::vector<sim::RuleStatus> status = rules_.Status();
  EXPECT_EQ(status[0].errors(), 2u);  // trigger and release
  EXPECT_THAT(status[0].last_error(), HasSubstr("releasing"));
  EXPECT_THAT(Log(), ::testing::Contains(HasSubstr("preempt-fence")));
  EXPECT_THAT(Log(), ::testing::Contains(HasSubstr("drop next 1 records")));
}

TEST_F(RuleEngineTest, ForgottenFilesStartCountingAgain) {
  Load(R"pb(rule {
              when { watch_subscribed { nth: 1 } }
              action { drop_records: 1 }
            })pb");
  std::unique_ptr<sim::SimBackend> file = device_->Open();
  rules_.OnEvent(RuleEvent::kWatchSubscribed, Ref(*file), 0);
  rules_.ForgetFile(file->file_id());
  rules_.OnEvent(RuleEvent::kWatchSubscribed, Ref(*file), 0);
  EXPECT_EQ(rules_.Status()[0].fired(), 2u);
}

TEST(ResolveRegion, ByInstanceOrClass) {
  sim::DeviceProfile tiny = TinyProfile();
  sim::RegionBytes region;
  EXPECT_EQ(*ResolveRegion(tiny, region), 1);  // VRAM where present
  region.set_region(MEMORY_REGION_SYSTEM);
  EXPECT_EQ(*ResolveRegion(tiny, region), 0);
  region.set_instance(1);
  EXPECT_EQ(*ResolveRegion(tiny, region), 1);
  region.set_instance(5);
  EXPECT_EQ(ResolveRegion(tiny, region).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<sim::DeviceProfile> igpu = sim::FindProfile("lnl-igpu");
  ASSERT_TRUE(igpu.ok());
  sim::RegionBytes any;
  EXPECT_EQ(*ResolveRegion(*igpu, any), 0);
  any.set_region(MEMORY_REGION_VRAM);
  EXPECT_EQ(ResolveRegion(*igpu, any).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xehil::simd
