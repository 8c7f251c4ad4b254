// RecoveryEngine around its edges: removal, queue overflow, stopping while
// backing off or while a policy waits, a policy vetoing a restart, events it
// does not act on.
#include <cerrno>
#include <chrono>
#include <memory>

#include "core/base/errno_status.h"
#include "core/recovery/default_policy.h"
#include "core/recovery/recovery_engine.h"
#include "integration/recovery/recovery_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using recovery_test::Err;
using recovery_test::kTimeout;
using recovery_test::Latch;
using recovery_test::SimRig;
using recovery_test::StartEngine;
using Stats = RecoveryEngine::Stats;

TEST(RecoveryEngine, RemovalStopsAllRestarts) {
  SimRig rig;
  const uint32_t a = *rig.MakeVm();
  const uint32_t b = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(b, -ENOMEM).ok());
  auto engine = StartEngine(rig.xe());
  engine->Post(Err(a, -EIO));  // known to the engine before the removal
  engine->Post(Removed{1, std::nullopt});
  engine->Post(Err(b, -ENOMEM));  // after removal: counted, not acted on
  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.processed == 3; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.removals, 1u);
  EXPECT_EQ(s.ignored, 1u);
  EXPECT_EQ(s.restarts_tried, 0u);
  EXPECT_EQ(s.vms.at(a).state, VmState::kGone);
  EXPECT_EQ(s.vms.at(b).state, VmState::kGone);
  EXPECT_EQ(*rig.SimState(b), sim::VmState::kPaused);
}

// Holds the worker in its first OnVmError until `gate` opens.
class GatedPolicy : public DefaultRecoveryPolicy {
 public:
  Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                     const VmStatus& vm) override {
    if (first_) {
      first_ = false;
      entered.Open();
      gate.Wait();
    }
    return DefaultRecoveryPolicy::OnVmError(ctx, error, vm);
  }
  Latch entered;
  Latch gate;

 private:
  bool first_ = true;
};

TEST(RecoveryEngine, QueueOverflowDropsEventsAndReconciles) {
  SimRig rig;
  const uint32_t seen = *rig.MakeVm();
  const uint32_t unseen = *rig.MakeVm();  // its VM_ERR is among the dropped
  ASSERT_TRUE(rig.PauseVm(seen, -ENOMEM).ok());
  ASSERT_TRUE(rig.PauseVm(unseen, -ENOMEM).ok());
  auto owned = std::make_unique<GatedPolicy>();
  GatedPolicy* policy = owned.get();
  RecoveryEngine::Options options;
  options.max_queued_events = 2;
  auto engine = StartEngine(rig.xe(), std::move(owned), options);

  engine->Post(Err(seen, -ENOMEM));
  policy->entered.Wait();
  for (int i = 0; i < 4; ++i) engine->Post(Err(seen, -ENOMEM));  // 2 fit
  engine->Post(Err(unseen, -ENOMEM));                            // dropped
  policy->gate.Open();

  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.reconciles == 1; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.posted, 3u);
  EXPECT_EQ(s.dropped, 3u);
  EXPECT_EQ(s.losses, 0u);  // no Lost record: the engine's own overflow
  EXPECT_EQ(s.reconcile_restarts, 1u);
  EXPECT_EQ(s.restarts_succeeded, 2u);
  EXPECT_EQ(*rig.SimState(seen), sim::VmState::kHealthy);
  EXPECT_EQ(*rig.SimState(unseen), sim::VmState::kHealthy);
}

// Restarts only after an hour.
class GlacialPolicy : public DefaultRecoveryPolicy {
 public:
  Decision OnVmError(RecoveryContext&, const VmError&,
                     const VmStatus&) override {
    return Decision::Restart(std::chrono::hours(1));
  }
};

TEST(RecoveryEngine, StopsPromptlyWhileBackingOff) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  auto engine = StartEngine(rig.xe(), std::make_unique<GlacialPolicy>());
  engine->Post(Err(vm, -ENOMEM));
  ASSERT_TRUE(engine->WaitFor(
      [vm](const Stats& s) {
        return s.vms.count(vm) != 0 &&
               s.vms.at(vm).state == VmState::kBackingOff;
      },
      kTimeout));
  EXPECT_FALSE(engine->WaitUntilQuiescent(std::chrono::milliseconds(1)));
  engine->Stop();  // must not wait out the hour
  engine->Post(Err(vm, -ENOMEM));
  const Stats s = engine->stats();
  EXPECT_EQ(s.restarts_tried, 0u);
  EXPECT_EQ(s.dropped, 1u);
  EXPECT_EQ(s.vms.at(vm).delay, std::chrono::hours(1));
  EXPECT_FALSE(engine->WaitUntilQuiescent(std::chrono::milliseconds(1)));
}

// Waits in its hook until the engine stops.
class PatientPolicy : public DefaultRecoveryPolicy {
 public:
  absl::Status BeforeRestart(RecoveryContext& ctx, const VmStatus&) override {
    entered.Open();
    woke_early = !ctx.WaitFor(std::chrono::hours(1));
    return absl::OkStatus();
  }
  Latch entered;
  bool woke_early = false;  // read after Stop() joined the worker
};

TEST(RecoveryEngine, StopWakesAPolicyWaitingInItsHook) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  auto owned = std::make_unique<PatientPolicy>();
  PatientPolicy* policy = owned.get();
  auto engine = StartEngine(rig.xe(), std::move(owned));
  engine->Post(Err(vm, -ENOMEM));
  policy->entered.Wait();
  engine->Stop();
  EXPECT_TRUE(policy->woke_early);
  EXPECT_EQ(engine->stats().restarts_tried, 0u);  // abandoned, not run late
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kPaused);
}

// Refuses every restart.
class VetoPolicy : public DefaultRecoveryPolicy {
 public:
  absl::Status BeforeRestart(RecoveryContext&, const VmStatus&) override {
    return absl::FailedPreconditionError("nothing left to free");
  }
};

TEST(RecoveryEngine, HookVetoGoesToOnRestartFailed) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOSPC).ok());
  auto engine = StartEngine(rig.xe(), std::make_unique<VetoPolicy>());
  engine->Post(Err(vm, -ENOSPC));
  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.given_up == 1; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.hook_failures, 1u);
  EXPECT_EQ(s.restarts_tried, 0u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kGivenUp);
  ASSERT_EQ(engine->reports().size(), 1u);
  EXPECT_THAT(engine->reports()[0].what,
              testing::HasSubstr("nothing left to free"));
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kPaused);
}

TEST(RecoveryEngine, CountsEventsItDoesNotActOn) {
  SimRig rig;
  auto engine = StartEngine(rig.xe());
  engine->Post(Unknown{7, 3, 1, 8});
  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.processed == 1; },
                              kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.unknowns, 1u);
  EXPECT_EQ(s.restarts_tried, 0u);
  EXPECT_THAT(s.ToString(), testing::HasSubstr("latency: n=0"));
}

TEST(RecoveryEngine, StopIsIdempotentAndDestructionStops) {
  SimRig rig;
  auto engine = StartEngine(rig.xe());
  engine->Stop();
  engine->Stop();
  engine.reset();
  auto another = StartEngine(rig.xe());  // destroyed while running
}

}  // namespace
}  // namespace xehil
