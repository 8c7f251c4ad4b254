// Scenario loading: text-format xehil.Scenario files (proto/scenario.proto)
// read, parsed and validated, with errors that name the file, the line and
// column (parse errors) or the field path (semantic errors).
//
//   absl::StatusOr<Scenario> s = LoadScenarioFile("scenarios/x.textproto");
//   if (!s.ok()) {
//     // INVALID_ARGUMENT "scenarios/x.textproto:12:5: Expected ..." or
//     // "x.textproto: steps[2].release_pressure: no inject_pressure with
//     // label 'vram'"; NOT_FOUND if the file cannot be read.
//   }
#ifndef XEHIL_CORE_SCENARIO_LOADER_H_
#define XEHIL_CORE_SCENARIO_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/scenario/validate.h"
#include "proto/scenario.pb.h"

namespace xehil {

// Reads `path`, parses it as a text-format Scenario and validates it.
// NOT_FOUND / PERMISSION_DENIED (with the errno) when it cannot be read.
absl::StatusOr<Scenario> LoadScenarioFile(const std::string& path);

// Parses and validates `text`; `source_name` (usually the path) prefixes
// every error message. Unknown fields are errors.
absl::StatusOr<Scenario> ParseScenarioText(absl::string_view text,
                                           absl::string_view source_name);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_LOADER_H_
