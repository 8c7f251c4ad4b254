#include "vxe/tests/vm_run_gtest.h"

#include <memory>

#include "absl/time/time.h"
#include "common/testing/child_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::vxe::testing {

using ::testing::HasSubstr;
using ::testing::Not;

VmRun RunInVm(const std::string& xehil, const std::vector<std::string>& command,
              const std::vector<std::string>& vm_run_flags) {
  std::vector<std::string> args = {"vm-run", "--timeout=240"};
  args.insert(args.end(), vm_run_flags.begin(), vm_run_flags.end());
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  VmRun run;
  absl::StatusOr<std::unique_ptr<process_testing::ChildProcess>> child =
      process_testing::ChildProcess::Start(xehil, args);
  if (!child.ok()) {
    run.err = child.status().ToString();
    return run;
  }
  run.exit_code = (*child)->WaitExit(absl::Seconds(300));
  run.out = (*child)->StdoutText();
  run.err = (*child)->StderrText();
  return run;
}

void ExpectGtestPassedEveryCase(const VmRun& run) {
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("[  PASSED  ]"));
  EXPECT_THAT(run.out, Not(HasSubstr("[  FAILED  ]")));
  EXPECT_THAT(run.out, Not(HasSubstr("[  SKIPPED ]"))) << run.out;
}

}  // namespace xehil::vxe::testing
