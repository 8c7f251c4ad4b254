// The whole loop on the simulator: sim::Device pauses a VM and posts a VM_ERR
// record -> notification pipe (XeDevice::WatchQueue) -> Listener ->
// RecoveryEngine::Post -> XeDevice::RestartVm -> sim::Device.
#include <cerrno>
#include <chrono>
#include <memory>
#include <vector>

#include "core/recovery/default_policy.h"
#include "core/recovery/recovery_engine.h"
#include "integration/recovery/recovery_test_util.h"
#include "core/watch/listener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using recovery_test::FastBackoff;
using recovery_test::Loop;
using recovery_test::RecordingPolicy;
using recovery_test::SimRig;
using Stats = RecoveryEngine::Stats;

class RestartsPausedVm : public testing::TestWithParam<int> {};

TEST_P(RestartsPausedVm, VmIsHealthyAfterOneRestart) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  Loop loop(rig);
  ASSERT_TRUE(rig.PauseVm(vm, GetParam()).ok());
  ASSERT_TRUE(
      loop.Settle([](const Stats& s) { return s.restarts_succeeded == 1; }));
  const Stats s = loop.engine->stats();
  EXPECT_EQ(s.vm_errors, 1u);
  EXPECT_EQ(s.restarts_tried, 1u);
  EXPECT_EQ(s.latency.count, 1u);
  EXPECT_EQ(s.vms.at(vm).last_error, GetParam());
  EXPECT_EQ(s.vms.at(vm).state, VmState::kHealthy);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
  EXPECT_EQ(rig.device().counters().restarts_succeeded, 1u);
}

INSTANTIATE_TEST_SUITE_P(Errnos, RestartsPausedVm,
                         testing::Values(-ENOMEM, -ENOSPC));

TEST(RecoveryLoop, RetriesEagainWithinTheBound) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.device().FailNextRestarts(rig.file(), vm, 3).ok());
  Loop loop(rig);
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  ASSERT_TRUE(
      loop.Settle([](const Stats& s) { return s.restarts_succeeded == 1; }));
  const Stats s = loop.engine->stats();
  EXPECT_EQ(s.eagain_tries, 3u);
  EXPECT_EQ(s.restarts_failed, 0u);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
}

TEST(RecoveryLoop, GivesUpWhenEagainOutlastsTheBoundAndCarriesOn) {
  SimRig rig;
  const uint32_t stuck = *rig.MakeVm();
  const uint32_t other = *rig.MakeVm();
  ASSERT_TRUE(rig.device().FailNextRestarts(rig.file(), stuck, 100).ok());
  Loop loop(rig);
  ASSERT_TRUE(rig.PauseVm(stuck, -ENOMEM).ok());
  ASSERT_TRUE(loop.Settle([](const Stats& s) { return s.given_up == 1; }));
  Stats s = loop.engine->stats();
  EXPECT_EQ(s.restarts_failed, 1u);
  EXPECT_EQ(s.eagain_tries,
            static_cast<uint64_t>(XeDevice::kDefaultRestartTries));
  EXPECT_EQ(s.vms.at(stuck).state, VmState::kGivenUp);
  ASSERT_EQ(loop.engine->reports().size(), 1u);
  EXPECT_EQ(loop.engine->reports()[0].error, -EAGAIN);
  EXPECT_EQ(*rig.SimState(stuck), sim::VmState::kPaused);

  // The engine still serves other VMs.
  ASSERT_TRUE(rig.PauseVm(other, -ENOSPC).ok());
  ASSERT_TRUE(
      loop.Settle([](const Stats& s) { return s.restarts_succeeded == 1; }));
  EXPECT_EQ(*rig.SimState(other), sim::VmState::kHealthy);
}

TEST(RecoveryLoop, BacksOffUnderSustainedFailureAndRecoversWithinOneStep) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  const DefaultRecoveryPolicy::Options o = FastBackoff();
  auto owned = std::make_unique<RecordingPolicy>(o);
  RecordingPolicy* policy = owned.get();
  Loop loop(rig, std::move(owned));
  // The worker's rebind and the next 19 restarts fail; the 20th restart
  // finds the pressure gone.
  constexpr int kFailures = 20;
  ASSERT_TRUE(
      rig.device().FailNextRebinds(rig.file(), vm, kFailures, -ENOMEM).ok());
  ASSERT_TRUE(rig.device().TriggerRebind(rig.file(), vm).ok());
  ASSERT_TRUE(loop.Settle([](const Stats& s) {
    return s.vm_errors == kFailures && s.restarts_succeeded == kFailures;
  }));

  const Stats s = loop.engine->stats();
  EXPECT_EQ(s.restarts_tried, static_cast<uint64_t>(kFailures));  // no storm
  EXPECT_EQ(s.coalesced, 0u);
  EXPECT_EQ(s.given_up, 0u);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
  EXPECT_EQ(rig.device().counters().restarts_failed, kFailures - 1u);

  const std::vector<RecordingPolicy::Entry> decisions = policy->decisions();
  const std::vector<RecordingPolicy::Entry> restarts = policy->restarts();
  ASSERT_EQ(decisions.size(), static_cast<size_t>(kFailures));
  ASSERT_EQ(restarts.size(), static_cast<size_t>(kFailures));
  for (int i = 0; i < kFailures; ++i) {
    EXPECT_EQ(decisions[i].consecutive, i + 1);
    EXPECT_EQ(decisions[i].delay, DefaultRecoveryPolicy::Backoff(o, i + 1));
    // Each restart waits out its backoff after the error that caused it...
    EXPECT_GE(restarts[i].at - decisions[i].at, decisions[i].delay) << i;
    // ...so restarts are spaced by growing backoff, up to the cap.
    if (i > 0) {
      EXPECT_GE(restarts[i].at - restarts[i - 1].at, decisions[i].delay) << i;
    }
  }
  // Pressure gone after the last failure: the one restart already scheduled,
  // one capped backoff step later, recovered the VM.
  EXPECT_EQ(decisions.back().delay, o.max_backoff);
  EXPECT_LT(restarts.back().at - decisions.back().at,
            o.max_backoff + std::chrono::seconds(5));
  EXPECT_GE(s.latency.max_ns, o.max_backoff.count());
}

TEST(RecoveryLoop, GivesUpAfterMaxConsecutiveFailures) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  DefaultRecoveryPolicy::Options o = FastBackoff();
  o.max_consecutive_failures = 3;
  Loop loop(rig, std::make_unique<DefaultRecoveryPolicy>(o));
  ASSERT_TRUE(rig.device().FailNextRebinds(rig.file(), vm, 10, -ENOSPC).ok());
  ASSERT_TRUE(rig.device().TriggerRebind(rig.file(), vm).ok());
  ASSERT_TRUE(loop.Settle([](const Stats& s) { return s.given_up == 1; }));
  const Stats s = loop.engine->stats();
  EXPECT_EQ(s.vm_errors, 4u);
  EXPECT_EQ(s.restarts_tried, 3u);
  EXPECT_EQ(s.reported, 1u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kGivenUp);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kPaused);
}

}  // namespace
}  // namespace xehil
