// Runs a program inside `xehil vm-run` for a host-side test, and the common
// check of a gtest binary run there: it exited 0, passed, and no case failed
// or skipped.
//
//   VmRun run = RunInVm(xehil, {binary, "--gtest_output=xml:/tmp/x.xml"}, {});
//   ExpectGtestPassedEveryCase(run);
#ifndef XEHIL_VXE_TESTS_VM_RUN_GTEST_H_
#define XEHIL_VXE_TESTS_VM_RUN_GTEST_H_

#include <optional>
#include <string>
#include <vector>

namespace xehil::vxe::testing {

struct VmRun {
  std::optional<int> exit_code;  // none: did not start or end in 5 minutes
  std::string out;
  std::string err;
};

// `xehil vm-run --timeout=240 [vm_run_flags] -- command...`, waited for.
VmRun RunInVm(const std::string& xehil, const std::vector<std::string>& command,
              const std::vector<std::string>& vm_run_flags);

// Exit 0, "[  PASSED  ]", no "[  FAILED  ]" and no "[  SKIPPED ]".
void ExpectGtestPassedEveryCase(const VmRun& run);

}  // namespace xehil::vxe::testing

#endif  // XEHIL_VXE_TESTS_VM_RUN_GTEST_H_
