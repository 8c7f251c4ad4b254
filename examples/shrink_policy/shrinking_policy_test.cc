// ShrinkingPolicy::BeforeRestart against a simulated device: what it unbinds
// and closes, and what it leaves alone.
#include "examples/shrink_policy/shrinking_policy.h"

#include <cerrno>
#include <chrono>
#include <memory>

#include "core/device/xe_device.h"
#include "integration/recovery/recovery_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::examples {
namespace {

using recovery_test::SimRig;
using ::testing::ElementsAre;
using ::testing::Field;

constexpr uint64_t kSize = 64 * 1024;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint32_t kSysmem = 1u << 0;

// What the engine lends a policy, minus the engine.
class TestContext : public RecoveryContext {
 public:
  explicit TestContext(XeDevice& device) : device_(device) {}
  XeDevice& device() override { return device_; }
  bool WaitFor(std::chrono::nanoseconds) override { return true; }
  bool stopping() const override { return false; }

 private:
  XeDevice& device_;
};

class ShrinkingPolicyTest : public ::testing::Test {
 protected:
  // A restartable VM with one BO per address (same handle where repeated).
  void SetUp() override {
    auto vm = rig_.xe().CreateVm(kRestartableLr);
    ASSERT_TRUE(vm.ok()) << vm.status();
    vm_ = *vm;
    for (int i = 0; i < 3; ++i) {
      auto bo = rig_.xe().CreateBo(kSize, kSysmem);
      ASSERT_TRUE(bo.ok()) << bo.status();
      bos_[i] = *bo;
      ASSERT_TRUE(
          rig_.xe().BindBo(vm_, bos_[i], 0, (i + 1) * kMiB, kSize).ok());
    }
  }

  VmStatus Failed(int32_t error) {
    VmStatus status;
    status.vm_id = vm_;
    status.state = VmState::kRestarting;
    status.last_error = error;
    status.consecutive_failures = 1;
    return status;
  }

  bool HandleOpen(uint32_t handle) {
    return rig_.device().GetBo(rig_.file(), handle).ok();
  }

  SimRig rig_;
  TestContext ctx_{rig_.xe()};
  uint32_t vm_ = 0;
  uint32_t bos_[3] = {};
  std::shared_ptr<ShrinkStats> stats_ = std::make_shared<ShrinkStats>();
};

TEST_F(ShrinkingPolicyTest, ShrinksAVmThatFailedWithEnospcToItsFirstBinding) {
  ShrinkingPolicy policy({}, {}, stats_);
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(-ENOSPC)).ok());
  EXPECT_THAT(rig_.xe().BindingsOf(vm_),
              ElementsAre(Field(&Binding::addr, 1 * kMiB)));
  EXPECT_TRUE(HandleOpen(bos_[0]));
  EXPECT_FALSE(HandleOpen(bos_[1]));
  EXPECT_FALSE(HandleOpen(bos_[2]));
  EXPECT_EQ(stats_->shrinks, 1u);
  EXPECT_EQ(stats_->unbound, 2u);
  EXPECT_EQ(stats_->bos_closed, 2u);
  // Already small enough: a second call does nothing.
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(-ENOMEM)).ok());
  EXPECT_EQ(stats_->shrinks, 1u);
}

TEST_F(ShrinkingPolicyTest, LeavesVmsThatDidNotRunOutOfMemoryAlone) {
  ShrinkingPolicy policy({}, {}, stats_);
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(-EIO)).ok());
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(0)).ok()) << "a reconcile";
  EXPECT_EQ(rig_.xe().BindingsOf(vm_).size(), 3u);
  EXPECT_EQ(stats_->shrinks, 0u);
}

TEST_F(ShrinkingPolicyTest, WithoutClosingOnlyUnbinds) {
  ShrinkingPolicy::ShrinkOptions shrink;
  shrink.keep_bindings = 2;
  shrink.close_bos = false;
  ShrinkingPolicy policy({}, shrink, stats_);
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(-ENOMEM)).ok());
  EXPECT_EQ(rig_.xe().BindingsOf(vm_).size(), 2u);
  EXPECT_TRUE(HandleOpen(bos_[2]));
  EXPECT_EQ(stats_->unbound, 1u);
  EXPECT_EQ(stats_->bos_closed, 0u);
}

TEST_F(ShrinkingPolicyTest, KeepsABoThatIsStillBoundAtAKeptAddress) {
  // The first BO also mapped at 4 MiB: that binding goes, the BO stays.
  ASSERT_TRUE(rig_.xe().BindBo(vm_, bos_[0], 0, 4 * kMiB, kSize).ok());
  ShrinkingPolicy policy({}, {}, stats_);
  ASSERT_TRUE(policy.BeforeRestart(ctx_, Failed(-ENOSPC)).ok());
  EXPECT_EQ(rig_.xe().BindingsOf(vm_).size(), 1u);
  EXPECT_TRUE(HandleOpen(bos_[0]));
  EXPECT_EQ(stats_->unbound, 3u);
  EXPECT_EQ(stats_->bos_closed, 2u);
}

TEST_F(ShrinkingPolicyTest, AVmThatIsGoneLetsTheRestartGoAhead) {
  // Destroyed behind XeDevice's back: its bindings are still on record.
  ASSERT_EQ(rig_.device().DestroyVm(rig_.file(), vm_), 0);
  ShrinkingPolicy policy({}, {}, stats_);
  EXPECT_TRUE(policy.BeforeRestart(ctx_, Failed(-ENOSPC)).ok());
  EXPECT_EQ(stats_->shrinks, 0u);
}

TEST(OptionsFromConfig, ZeroFieldsKeepTheDefaults) {
  DefaultRecoveryPolicy::Options defaults;
  DefaultRecoveryPolicy::Options options = OptionsFromConfig(RecoveryConfig());
  EXPECT_EQ(options.initial_backoff, defaults.initial_backoff);
  EXPECT_EQ(options.max_backoff, defaults.max_backoff);
  EXPECT_EQ(options.max_restart_tries, defaults.max_restart_tries);

  RecoveryConfig config;
  config.set_initial_backoff_us(500);
  config.set_max_backoff_ms(20);
  config.set_max_restart_tries(3);
  config.set_max_consecutive_failures(7);
  options = OptionsFromConfig(config);
  EXPECT_EQ(options.initial_backoff, std::chrono::microseconds(500));
  EXPECT_EQ(options.max_backoff, std::chrono::milliseconds(20));
  EXPECT_EQ(options.max_restart_tries, 3);
  EXPECT_EQ(options.max_consecutive_failures, 7);
}

}  // namespace
}  // namespace xehil::examples
