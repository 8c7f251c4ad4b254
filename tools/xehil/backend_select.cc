#include "tools/xehil/backend_select.h"

#include "absl/strings/str_cat.h"
#include "core/backend/drm_backend.h"
#include "sim/sim_backend.h"

namespace xehil {

absl::StatusOr<OpenedBackend> OpenBackend(const std::string& name,
                                          const std::string& sim_profile,
                                          const std::string& xe_path) {
  OpenedBackend opened;
  if (name == "sim") {
    absl::StatusOr<std::shared_ptr<sim::Device>> device =
        sim::Device::Create(sim_profile);
    if (!device.ok()) return device.status();
    opened.sim_device = *device;
    std::unique_ptr<sim::SimBackend> file = opened.sim_device->Open();
    opened.sim_file = file->file_id();
    opened.backend = std::move(file);
    return opened;
  }
  if (name == "xe") {
    absl::StatusOr<std::unique_ptr<DrmBackend>> drm = DrmBackend::Open(xe_path);
    if (!drm.ok()) return drm.status();
    opened.backend = *std::move(drm);
    return opened;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown backend '", name, "': expected sim or xe"));
}

}  // namespace xehil
