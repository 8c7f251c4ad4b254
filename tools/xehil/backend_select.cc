#include "tools/xehil/backend_select.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "environment/registry.h"

namespace xehil {

std::string EnvironmentNameFor(const std::string& backend,
                               const std::string& sim_profile,
                               const std::string& xe_path) {
  if (backend == "sim" && !sim_profile.empty()) {
    return absl::StrCat("sim:", sim_profile);
  }
  if (backend == "xe" && !xe_path.empty()) return absl::StrCat("xe:", xe_path);
  return backend;
}

absl::StatusOr<OpenedBackend> OpenBackend(const std::string& name,
                                          const std::string& sim_profile,
                                          const std::string& xe_path) {
  absl::StatusOr<RunEnvironment> env =
      OpenEnvironment(EnvironmentNameFor(name, sim_profile, xe_path));
  if (!env.ok()) return env.status();
  absl::StatusOr<OpenedFile> file = env->open_file();
  if (!file.ok()) return file.status();
  return OpenedBackend{*std::move(env), *std::move(file)};
}

}  // namespace xehil
