// Helpers for the scenario runner's own tests: parse inline text-format
// scenarios, run them on a fresh simulator, find expectation results.
//
//   Report r = RunText(absl::StrCat(kOneVm, R"pb(name: "x" ...)pb"));
//   EXPECT_EQ(Find(r, "recovered")->result(), RESULT_PASS);
#ifndef XEHIL_INTEGRATION_SCENARIO_SCENARIO_TEST_UTIL_H_
#define XEHIL_INTEGRATION_SCENARIO_SCENARIO_TEST_UTIL_H_

#include <string>

#include "core/scenario/runner.h"
#include "proto/scenario.pb.h"

namespace xehil::scenario_test {

// One watched file with one restartable LR VM and a 64 KiB system BO.
inline constexpr char kOneVm[] = R"pb(
  setup {
    files {
      name: "app"
      watch { watch_id: 1 }
      vms {
        name: "vm"
        flags: VM_FLAG_LR_MODE
        flags: VM_FLAG_RESTARTABLE
        bos { size_bytes: 65536 placement: PLACEMENT_SYSTEM_ONLY }
        exec_queues {}
      }
    }
  }
)pb";

// Parses `text` (failing the test if it does not parse and validate).
Scenario Parse(const std::string& text);

// Parses and runs `text` on a fresh default simulator.
Report RunText(const std::string& text, RunOptions options = {});

// The expectation result named `name` (null, failing the test, if none).
const ExpectationResult* Find(const Report& report, const std::string& name);

}  // namespace xehil::scenario_test

#endif  // XEHIL_INTEGRATION_SCENARIO_SCENARIO_TEST_UTIL_H_
