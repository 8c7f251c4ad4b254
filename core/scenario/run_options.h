// RunOptions: how RunScenario (runner.h) runs a scenario — the recovery
// policy under test, live progress output, and labels for the report.
//
//   RunOptions options;
//   options.policy_factory = [](const RecoveryConfig& config) {
//     return std::make_unique<MyPolicy>(config);
//   };
//   options.policy_name = "my-policy";
//   options.on_progress = [](const Progress& p) { std::puts(p.text.c_str()); };
#ifndef XEHIL_CORE_SCENARIO_RUN_OPTIONS_H_
#define XEHIL_CORE_SCENARIO_RUN_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/recovery/recovery_policy.h"
#include "core/watch/events.h"
#include "proto/scenario.pb.h"

namespace xehil {

// Makes the recovery policy for one watched file (called once per engine).
// It gets the scenario's RecoveryConfig; a custom policy may ignore it.
using PolicyFactory =
    std::function<std::unique_ptr<RecoveryPolicy>(const RecoveryConfig&)>;

// A DefaultRecoveryPolicy configured from the scenario's RecoveryConfig
// (zero fields keep the policy's defaults).
std::unique_ptr<RecoveryPolicy> MakeDefaultPolicy(const RecoveryConfig& config);

// One line of live output, for `xehil run`.
struct Progress {
  enum class Kind {
    kSetup,  // setup finished (or failed)
    kStepStarted,
    kStepFinished,  // text says how it went (or that it was skipped)
    kEvent,         // a watch event arrived
    kRestart,       // the engine issued VM_RESTART
    kExpectation,   // an expectation was decided; see `result`
    kDone,          // the run ended; see `result`
  };
  Kind kind = Kind::kSetup;
  uint64_t t_us = 0;                   // since the scenario started
  std::string text;                    // one line, no newline
  Result result = RESULT_UNSPECIFIED;  // kExpectation and kDone
  // kEvent: the event itself and the name of the file whose listener
  // delivered it, for tools that forward events typed (the lab agent).
  std::optional<WatchEvent> event;
  std::string file;
};

struct RunOptions {
  // Null: MakeDefaultPolicy.
  PolicyFactory policy_factory;
  // For the report; "" gives "default" (no factory) or "custom".
  std::string policy_name;
  // Live output; may be null.
  std::function<void(const Progress&)> on_progress;
  // Where the scenario came from, for Report.source.
  std::string source;
  uint64_t seed = 0;
  uint32_t repeat_index = 0;
};

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_RUN_OPTIONS_H_
