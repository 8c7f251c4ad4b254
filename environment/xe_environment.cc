#include "environment/xe_environment.h"

#include <cstdlib>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
#include "core/pressure/bo_pressure_injector.h"
#include "environment/daemon_capabilities.h"

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
  // vxe's guest daemon names files by their DRM client id; so do we. A
  // kernel without drm-client-id leaves it 0, which only capabilities use.
  const char* control = std::getenv(kVxeControlEnv);
  const bool vxe = control != nullptr && *control != '\0';
  env.open_file = [path, vxe]() -> absl::StatusOr<OpenedFile> {
    XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> file,
                           DrmBackend::Open(path));
    absl::StatusOr<uint64_t> id = file->client_id();
    if (!id.ok() && vxe) return id.status();
    return OpenedFile{std::move(file), id.ok() ? *id : 0};
  };
  if (vxe) {
    XEHIL_RETURN_IF_ERROR(AttachDaemonCapabilities(control, env));
    return env;
  }
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
