#include "sim/fault_script.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace xehil::sim {
namespace {

TEST(FaultScript, RebindFailuresAreConsumedInScriptedOrder) {
  FaultScript script;
  script.FailRebinds(1, 2, 2, -EAGAIN);
  script.FailRebinds(1, 2, 1, -ENOSPC);
  EXPECT_EQ(script.PendingRebindFailures(1, 2), 3u);
  EXPECT_EQ(script.TakeRebindFailure(1, 3), 0);  // another VM
  EXPECT_EQ(script.TakeRebindFailure(2, 2), 0);  // same id, another file
  EXPECT_EQ(script.TakeRebindFailure(1, 2), -EAGAIN);
  EXPECT_EQ(script.TakeRebindFailure(1, 2), -EAGAIN);
  EXPECT_EQ(script.TakeRebindFailure(1, 2), -ENOSPC);
  EXPECT_EQ(script.TakeRebindFailure(1, 2), 0);
}

TEST(FaultScript, RestartAgainsAndRecordDropsCountDown) {
  FaultScript script;
  script.AgainRestarts(1, 1, 2);
  script.DropRecords(1, 1);
  EXPECT_TRUE(script.TakeRestartAgain(1, 1));
  EXPECT_TRUE(script.TakeRestartAgain(1, 1));
  EXPECT_FALSE(script.TakeRestartAgain(1, 1));
  EXPECT_TRUE(script.TakeRecordDrop(1));
  EXPECT_FALSE(script.TakeRecordDrop(1));
}

TEST(FaultScript, ForgettingAVmOrFileClearsItsBudgets) {
  FaultScript script;
  script.FailRebinds(1, 1, 5, -ENOMEM);
  script.AgainRestarts(1, 1, 5);
  script.FailRebinds(1, 2, 5, -ENOMEM);
  script.DropRecords(1, 5);
  script.FailRebinds(2, 1, 1, -ENOMEM);
  script.ForgetVm(1, 1);
  EXPECT_EQ(script.PendingRebindFailures(1, 1), 0u);
  EXPECT_EQ(script.PendingRestartAgains(1, 1), 0u);
  EXPECT_EQ(script.PendingRebindFailures(1, 2), 5u);
  script.ForgetFile(1);
  EXPECT_EQ(script.PendingRebindFailures(1, 2), 0u);
  EXPECT_EQ(script.PendingRecordDrops(1), 0u);
  EXPECT_EQ(script.PendingRebindFailures(2, 1), 1u);
}

TEST(FaultScript, ZeroCountOrZeroErrorScriptsNothing) {
  FaultScript script;
  script.FailRebinds(1, 1, 0, -ENOMEM);
  script.FailRebinds(1, 1, 3, 0);
  EXPECT_EQ(script.TakeRebindFailure(1, 1), 0);
}

}  // namespace
}  // namespace xehil::sim
