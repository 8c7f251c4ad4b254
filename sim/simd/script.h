// Fault scripts for xehil-simd: loading and validating xehil.sim.SimdScript
// text-format files (proto/simd.proto). Every problem is reported, one per
// line, as "FILE:LINE:COL: message" (parser errors and rule checks alike),
// so a script author can jump to it.
//
//   absl::StatusOr<sim::SimdScript> script = LoadScriptFile(path);
//   if (!script.ok()) { std::cerr << script.status().message(); ... }
#ifndef XEHIL_SIM_SIMD_SCRIPT_H_
#define XEHIL_SIM_SIMD_SCRIPT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/text_format.h"
#include "proto/simd.pb.h"

namespace xehil::simd {

// Parses and validates a text-format script; `source` names it in errors.
absl::StatusOr<sim::SimdScript> ParseScriptText(absl::string_view text,
                                                absl::string_view source);

// Reads `path` and parses it; unreadable files are errors naming the path.
absl::StatusOr<sim::SimdScript> LoadScriptFile(const std::string& path);

// The checks ParseScriptText applies: each rule has a trigger and at least
// one action; every action is set and has positive counts, a fail_rebinds
// errno and pressure bytes; VM actions are not used on file_opened (no VM
// exists yet); rule names are unique. `tree` (may be null) gives positions;
// without it, problems name the rule by number. `first_rule` numbers the
// rules (for rules added after a script's).
absl::Status ValidateScript(
    const sim::SimdScript& script, absl::string_view source,
    const google::protobuf::TextFormat::ParseInfoTree* tree = nullptr,
    int first_rule = 1);

// One action's checks from ValidateScript (for the control channel's
// `apply`): set, positive counts and bytes, an errno for fail_rebinds.
absl::Status ValidateAction(const sim::Action& action);

// "rule N" unless the rule is named.
std::string RuleName(const sim::Rule& rule, int number);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_SCRIPT_H_
