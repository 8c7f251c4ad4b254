#include "environment/registry.h"

#include "absl/strings/str_cat.h"
#include "environment/sim_environment.h"
#include "environment/simd_environment.h"
#include "environment/xe_environment.h"

namespace xehil {

const char* EnvironmentNamesHelp() {
  return "  sim[:PROFILE]   a fresh simulated device (dg2-16g, bmg-12g, "
         "lnl-igpu)\n"
         "  simd[:SOCKET]   a running xehil-simd (default: its default "
         "socket)\n"
         "  xe[:NODE]       an xe render node (default: the first one; vxe "
         "inside vm-run)\n";
}

absl::StatusOr<EnvironmentName> ParseEnvironmentName(absl::string_view name) {
  const size_t colon = name.find(':');
  EnvironmentName parsed;
  parsed.kind = std::string(name.substr(0, colon));
  if (colon != absl::string_view::npos) {
    parsed.argument = std::string(name.substr(colon + 1));
    if (parsed.argument.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment '", name, "': nothing after ':' (write '",
                       parsed.kind, "' for the default)"));
    }
  }
  if (parsed.kind == "sim" || parsed.kind == "simd" || parsed.kind == "xe") {
    return parsed;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown environment '", name, "'; one of:\n", EnvironmentNamesHelp()));
}

absl::StatusOr<RunEnvironment> OpenEnvironment(
    absl::string_view name, const EnvironmentDefaults& defaults) {
  absl::StatusOr<EnvironmentName> parsed = ParseEnvironmentName(name);
  if (!parsed.ok()) return parsed.status();
  if (parsed->kind == "sim") {
    return MakeSimEnvironment(
        SimProfileFor(defaults.sim_profile, parsed->argument));
  }
  if (parsed->kind == "simd") return MakeSimdEnvironment(parsed->argument);
  return MakeXeEnvironment(parsed->argument);
}

}  // namespace xehil
