// The whole loop on the simulator, continued: loss and reconcile, failure
// episodes, duplicated records, and a user policy that does more than
// restart.
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
using recovery_test::kTimeout;
using recovery_test::Loop;
using recovery_test::RecordingPolicy;
using recovery_test::SimRig;
using recovery_test::StartEngine;
using Stats = RecoveryEngine::Stats;

TEST(RecoveryLoop, ReconcilesEveryRestartableVmAfterLoss) {
  SimRig rig;
  // The smallest ring holds 32 records; nobody reads it while 34 VMs pause,
  // so two VM_ERRs are dropped and a loss record follows the 32nd.
  NotificationPipeOptions ring;
  ring.ring_notes = 1;
  auto pipe = rig.xe().WatchQueue(/*watch_id=*/1, ring);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  constexpr int kPaused = 34;
  std::vector<uint32_t> vms;
  for (int i = 0; i < kPaused; ++i) {
    vms.push_back(*rig.MakeVm());
    ASSERT_TRUE(rig.PauseVm(vms.back(), -ENOMEM).ok());
  }
  const uint32_t healthy = *rig.MakeVm();
  ASSERT_EQ(rig.device().counters().records_posted, 32u);
  ASSERT_EQ(rig.device().counters().records_refused, 2u);

  auto engine = StartEngine(rig.xe());
  auto listener = Listener::Start(
      *std::move(pipe), [&](const WatchEvent& e) { engine->Post(e); });
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE(
      engine->WaitFor([](const Stats& s) { return s.losses == 1; }, kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  (*listener)->Stop();

  const Stats s = engine->stats();
  EXPECT_EQ(s.vm_errors, 32u);
  EXPECT_EQ(s.reconciles, 1u);
  // The two VMs whose records were lost were found paused and restarted.
  EXPECT_EQ(s.reconcile_restarts, 2u);
  EXPECT_EQ(s.restarts_succeeded, static_cast<uint64_t>(kPaused));
  // The healthy VM (and any VM restarted before the loss was handled)
  // answered -EALREADY: benign.
  EXPECT_GE(s.benign_not_paused, 1u);
  EXPECT_EQ(s.restarts_failed, 0u);
  EXPECT_EQ(s.reported, 0u);
  for (uint32_t vm : vms) {
    EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy) << "vm " << vm;
  }
  EXPECT_EQ(*rig.SimState(healthy), sim::VmState::kHealthy);
}

// Three failures in a row, then (after recovery) one more: with
// `quiet_period` 0 the later one starts a new episode; with an hour it is the
// fourth of the same one.
std::vector<int> ConsecutiveCounts(std::chrono::nanoseconds quiet_period) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  auto owned = std::make_unique<RecordingPolicy>(FastBackoff());
  RecordingPolicy* policy = owned.get();
  RecoveryEngine::Options options;
  options.quiet_period = quiet_period;
  Loop loop(rig, std::move(owned), options);
  EXPECT_TRUE(rig.device().FailNextRebinds(rig.file(), vm, 3, -ENOMEM).ok());
  EXPECT_TRUE(rig.device().TriggerRebind(rig.file(), vm).ok());
  EXPECT_TRUE(loop.Settle([](const Stats& s) {
    return s.vm_errors == 3 && s.restarts_succeeded == 3;
  }));
  EXPECT_TRUE(rig.PauseVm(vm, -ENOSPC).ok());
  EXPECT_TRUE(loop.Settle([](const Stats& s) {
    return s.vm_errors == 4 && s.restarts_succeeded == 4;
  }));
  std::vector<int> counts;
  for (const RecordingPolicy::Entry& d : policy->decisions()) {
    counts.push_back(d.consecutive);
  }
  return counts;
}

TEST(RecoveryLoop, ErrorAfterAQuietPeriodStartsANewEpisode) {
  EXPECT_THAT(ConsecutiveCounts(std::chrono::nanoseconds(0)),
              testing::ElementsAre(1, 2, 3, 1));
}

TEST(RecoveryLoop, ErrorWithinTheQuietPeriodKeepsCounting) {
  EXPECT_THAT(ConsecutiveCounts(std::chrono::hours(1)),
              testing::ElementsAre(1, 2, 3, 4));
}

TEST(RecoveryLoop, DuplicatedRecordsCoalesceIntoOneRestart) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  Loop loop(rig, nullptr, {}, /*copies=*/8);
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  ASSERT_TRUE(loop.Settle([](const Stats& s) { return s.vm_errors == 8; }));
  const Stats s = loop.engine->stats();
  EXPECT_EQ(s.restarts_tried, 1u);
  EXPECT_EQ(s.coalesced, 7u);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
}

// A user policy: before restarting, shrink the VM's working set by unbinding
// its scratch mapping, and remember what it did.
class ShrinkBeforeRestart : public DefaultRecoveryPolicy {
 public:
  absl::Status BeforeRestart(RecoveryContext& ctx,
                             const VmStatus& vm) override {
    shrunk.push_back(vm.vm_id);
    return ctx.device().Unbind(vm.vm_id, /*addr=*/1u << 20, 64 * 1024);
  }
  void AfterRestart(RecoveryContext&, const VmStatus&,
                    const absl::Status& result) override {
    results.push_back(result);
  }
  // Read after the engine stopped.
  std::vector<uint32_t> shrunk;
  std::vector<absl::Status> results;
};

TEST(RecoveryLoop, UserPolicyShrinksTheWorkingSetBeforeRestarting) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  auto owned = std::make_unique<ShrinkBeforeRestart>();
  ShrinkBeforeRestart* policy = owned.get();
  Loop loop(rig, std::move(owned));
  ASSERT_TRUE(rig.PauseVm(vm, -ENOSPC).ok());
  ASSERT_TRUE(
      loop.Settle([](const Stats& s) { return s.restarts_succeeded == 1; }));
  loop.listener->Stop();
  loop.engine->Stop();
  EXPECT_THAT(policy->shrunk, testing::ElementsAre(vm));
  ASSERT_EQ(policy->results.size(), 1u);
  EXPECT_TRUE(policy->results[0].ok()) << policy->results[0];
  // The bind from MakeVm and the policy's unbind.
  EXPECT_EQ(rig.device().counters().Ioctls("VM_BIND", 0), 2u);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
}

}  // namespace
}  // namespace xehil
