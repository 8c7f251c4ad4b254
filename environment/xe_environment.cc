#include "environment/xe_environment.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
#include "core/pressure/bo_pressure_injector.h"

namespace xehil {

namespace {

constexpr char kNoXeFaults[] =
    "a real xe driver cannot fail one VM's rebinds or restarts on demand "
    "(fail_function would fail them for every process)";

}  // namespace

absl::StatusOr<RunEnvironment> MakeXeEnvironment(const std::string& node) {
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> probe,
                         DrmBackend::Open(node));
  XEHIL_RETURN_IF_ERROR(ProbeWatchQueueSupport());
  const std::string path = probe->path();
  RunEnvironment env;
  env.backend_name = "xe";
  env.device_description = probe->Description();
  env.open_file = [path]() -> absl::StatusOr<OpenedFile> {
    XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> file,
                           DrmBackend::Open(path));
    return OpenedFile{std::move(file), 0};
  };
  env.faults_missing = kNoXeFaults;
  std::shared_ptr<BoPressureInjector> hog = MakeXeVramInjector(path);
  if (absl::Status usable = hog->CheckAvailable(); usable.ok()) {
    env.pressure = hog.get();
    env.owned.push_back(std::move(hog));
  } else {
    env.pressure_missing =
        absl::StrCat("no VRAM hog on ", path, ": ", usable.message());
  }
  return env;
}

}  // namespace xehil
