// RecoveryEngine driven by Post()-ed events over a real simulated device: the
// engine's decisions (coalescing, benign errnos, reports, removal, overflow,
// stopping) without the listener in between. recovery_loop_test.cc runs the
// whole loop.
#include "core/recovery/recovery_engine.h"

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "core/recovery/default_policy.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration/recovery/recovery_test_util.h"

namespace xehil {
namespace {

using recovery_test::Err;
using recovery_test::kTimeout;
using recovery_test::Latch;
using recovery_test::SimRig;
using recovery_test::StartEngine;
using Stats = RecoveryEngine::Stats;

// The default policy, but its first OnVmError holds the worker until the test
// opens `gate`, so the test can queue events behind it.
class GatedPolicy : public DefaultRecoveryPolicy {
 public:
  Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                     const VmStatus& vm) override {
    if (calls_++ == 0) {
      entered.Open();
      gate.Wait();
    }
    return DefaultRecoveryPolicy::OnVmError(ctx, error, vm);
  }
  int calls() const { return calls_; }  // read after the engine stopped

  Latch entered;
  Latch gate;

 private:
  int calls_ = 0;
};

TEST(RecoveryEngine, CoalescesDuplicateErrorsForOneVm) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  auto owned = std::make_unique<GatedPolicy>();
  GatedPolicy* policy = owned.get();
  auto engine = StartEngine(rig.xe(), std::move(owned));

  const VmError error = Err(vm, -ENOMEM);
  engine->Post(error);
  policy->entered.Wait();  // the worker is deciding the first one
  for (int i = 0; i < 49; ++i) engine->Post(error);
  policy->gate.Open();

  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.processed == 50; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  engine->Stop();
  const Stats s = engine->stats();
  EXPECT_EQ(s.vm_errors, 50u);
  EXPECT_EQ(s.coalesced, 49u);
  EXPECT_EQ(s.restarts_tried, 1u);
  EXPECT_EQ(s.restarts_succeeded, 1u);
  EXPECT_EQ(policy->calls(), 1);
  EXPECT_EQ(s.vms.at(vm).coalesced, 49u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kHealthy);
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
  EXPECT_EQ(rig.device().counters().Ioctls("VM_RESTART", 0), 1u);
}

TEST(RecoveryEngine, RecordsOlderThanTheLastRestartAreCoalesced) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOSPC).ok());
  auto engine = StartEngine(rig.xe());
  const VmError error = Err(vm, -ENOSPC);
  engine->Post(error);
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_succeeded == 1; }, kTimeout));
  engine->Post(error);  // a late copy of the record already answered
  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.processed == 2; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.coalesced, 1u);
  EXPECT_EQ(s.restarts_tried, 1u);
  EXPECT_EQ(s.restarts_benign, 0u);
}

// A kernel whose CLOCK_MONOTONIC ticks in jiffies (the vxe guest under TCG:
// 4 ms) stamps the failure of a restart's own rebind with the restart's
// start time; that record is a new failure, not a copy of the one answered.
TEST(RecoveryEngine, RecordStampedAtTheRestartsStartOnACoarseClockIsRestarted) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOSPC).ok());
  // The restart's rebind fails once more; the one after succeeds.
  ASSERT_TRUE(rig.device().FailNextRebinds(rig.file(), vm, 1, -ENOSPC).ok());
  constexpr uint64_t kTick = 4'000'000'000;  // the clock stands still
  RecoveryEngine::Options options;
  options.clock = [] { return kTick; };
  auto engine = StartEngine(rig.xe(), nullptr, options);
  engine->Post(Err(vm, -ENOSPC, kTick));
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_succeeded == 1; }, kTimeout));
  ASSERT_EQ(*rig.SimState(vm), sim::VmState::kPaused);
  engine->Post(Err(vm, -ENOSPC, kTick));  // the restart's own failure
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_succeeded == 2; }, kTimeout))
      << "the second VM_ERR was coalesced: " << engine->stats().coalesced;
  EXPECT_EQ(*rig.SimState(vm), sim::VmState::kHealthy);
}

TEST(RecoveryEngine, ReportsOtherErrnosWithoutRestarting) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  auto engine = StartEngine(rig.xe());
  engine->Post(Err(vm, -EIO));
  ASSERT_TRUE(engine->WaitFor([](const Stats& s) { return s.processed == 1; },
                              kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.reported, 1u);
  EXPECT_EQ(s.restarts_tried, 0u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kFailed);
  EXPECT_EQ(s.vms.at(vm).last_error, -EIO);
  const std::vector<RecoveryEngine::Report> reports = engine->reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].vm_id, vm);
  EXPECT_EQ(reports[0].error, -EIO);
  EXPECT_THAT(reports[0].what, testing::HasSubstr("not a restartable error"));
  EXPECT_EQ(rig.device().counters().Ioctls("VM_RESTART", 0), 0u);
}

TEST(RecoveryEngine, VmDestroyedBeforeItsRestartIsBenign) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  ASSERT_TRUE(rig.xe().DestroyVm(vm).ok());
  auto engine = StartEngine(rig.xe());
  engine->Post(Err(vm, -ENOMEM));
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_tried == 1; }, kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.restarts_benign, 1u);
  EXPECT_EQ(s.benign_gone, 1u);
  EXPECT_EQ(s.restarts_failed, 0u);
  EXPECT_EQ(s.reported, 0u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kGone);
}

TEST(RecoveryEngine, RestartOfAVmThatIsNotPausedIsBenign) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();  // healthy: VM_RESTART says -EALREADY
  auto engine = StartEngine(rig.xe());
  engine->Post(Err(vm, -ENOMEM));
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_tried == 1; }, kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.benign_not_paused, 1u);
  EXPECT_EQ(s.restarts_failed, 0u);
  EXPECT_EQ(s.reported, 0u);
  EXPECT_EQ(s.vms.at(vm).state, VmState::kHealthy);
  EXPECT_EQ(s.vms.at(vm).consecutive_failures, 0);
}

TEST(RecoveryEngine, MeasuresLatencyFromTheRecordTimestamp) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  auto engine = StartEngine(rig.xe());
  constexpr uint64_t kAge = 50'000'000;  // the record is 50 ms old
  engine->Post(Err(vm, -ENOMEM, MonotonicNowNs() - kAge));
  ASSERT_TRUE(engine->WaitFor(
      [](const Stats& s) { return s.restarts_succeeded == 1; }, kTimeout));
  const Stats s = engine->stats();
  EXPECT_EQ(s.latency.count, 1u);
  EXPECT_GE(s.latency.min_ns, static_cast<int64_t>(kAge));
  // The record's timestamp is passed on, so the driver measures it too.
  EXPECT_GE(rig.device().counters().last_restart_latency_ns, kAge);
}

}  // namespace
}  // namespace xehil

namespace xehil {
namespace {

// Backs every VM off for an hour but the last one, which restarts at once;
// records the order the restarts ran in.
class LastOneNowPolicy : public DefaultRecoveryPolicy {
 public:
  explicit LastOneNowPolicy(uint32_t now_vm) : now_vm_(now_vm) {}
  Decision OnVmError(RecoveryContext&, const VmError& error,
                     const VmStatus&) override {
    return Decision::Restart(error.vm_id == now_vm_
                                 ? std::chrono::nanoseconds(0)
                                 : std::chrono::hours(1));
  }
  void AfterRestart(RecoveryContext&, const VmStatus& vm,
                    const absl::Status&) override {
    order.push_back(vm.vm_id);  // the worker thread only
  }
  std::vector<uint32_t> order;

 private:
  const uint32_t now_vm_;
};

TEST(RecoveryEngine, ARestartDueNowIsNotHeldUpByOnesBackingOff) {
  SimRig rig;
  std::vector<uint32_t> vms;
  for (int i = 0; i < 8; ++i) {
    vms.push_back(*rig.MakeVm());
    ASSERT_TRUE(rig.PauseVm(vms.back(), -ENOMEM).ok());
  }
  auto owned = std::make_unique<LastOneNowPolicy>(vms.back());
  LastOneNowPolicy* policy = owned.get();
  auto engine = StartEngine(rig.xe(), std::move(owned));
  for (uint32_t vm : vms) engine->Post(Err(vm, -ENOMEM));
  ASSERT_TRUE(engine->WaitForCounters(
      [](const Stats& s) { return s.restarts_succeeded == 1; }, kTimeout));
  ASSERT_TRUE(engine->WaitForCounters(
      [](const Stats& s) { return s.processed == 8; }, kTimeout));
  EXPECT_FALSE(engine->WaitUntilQuiescent(std::chrono::milliseconds(0)))
      << "seven restarts are still scheduled";
  for (size_t i = 0; i + 1 < vms.size(); ++i) {
    EXPECT_EQ(engine->vm_status(vms[i])->state, VmState::kBackingOff);
  }
  engine->Stop();
  EXPECT_THAT(policy->order, ::testing::ElementsAre(vms.back()));
}

TEST(RecoveryEngine, AnswersForOneVmAndForTheCountersAlone) {
  SimRig rig;
  const uint32_t vm = *rig.MakeVm();
  const uint32_t quiet = *rig.MakeVm();
  ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());
  auto engine = StartEngine(rig.xe());
  engine->Post(Err(vm, -ENOMEM));
  ASSERT_TRUE(engine->WaitForCounters(
      [](const Stats& s) { return s.restarts_succeeded == 1; }, kTimeout));
  ASSERT_TRUE(engine->WaitUntilQuiescent(kTimeout));

  const std::optional<VmStatus> status = engine->vm_status(vm);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, VmState::kHealthy);
  EXPECT_EQ(status->restarts_succeeded, 1u);
  EXPECT_FALSE(engine->vm_status(quiet).has_value());

  const Stats counters = engine->counters();
  EXPECT_TRUE(counters.vms.empty());
  EXPECT_EQ(counters.restarts_succeeded, 1u);
  EXPECT_EQ(counters.vm_errors, engine->stats().vm_errors);
  engine->Stop();
}

}  // namespace
}  // namespace xehil
