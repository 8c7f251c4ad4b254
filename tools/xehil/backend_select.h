// Opens what a user names with --backend: an environment by its registry
// name (environment/registry.h: "sim", "sim:PROFILE", "simd[:SOCKET]",
// "xe[:NODE]") and one DRM file on it. A plain "sim" takes `sim_profile`
// and a plain "xe" takes `xe_path`, the older --device-profile and
// --xe-path flags.
#ifndef XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_
#define XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/environment/capabilities.h"
#include "core/scenario/run_environment.h"

namespace xehil {

struct OpenedBackend {
  RunEnvironment env;
  OpenedFile file;
};

// The registry name --backend, --device-profile and --xe-path add up to.
std::string EnvironmentNameFor(const std::string& backend,
                               const std::string& sim_profile,
                               const std::string& xe_path);

// INVALID_ARGUMENT for an unknown name; a missing device says what is
// missing.
absl::StatusOr<OpenedBackend> OpenBackend(const std::string& name,
                                          const std::string& sim_profile,
                                          const std::string& xe_path);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_
