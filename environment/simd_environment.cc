#include "environment/simd_environment.h"

#include <memory>
#include <utility>

#include "core/base/errno_status.h"
#include "environment/daemon_capabilities.h"
#include "sim/simd/client.h"
#include "sim/simd/remote_backend.h"

namespace xehil {

absl::StatusOr<RunEnvironment> MakeSimdEnvironment(const std::string& socket) {
  const std::string path = socket.empty() ? simd::DefaultSocketPath() : socket;
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<simd::RemoteBackend> probe,
                         simd::RemoteBackend::Connect(path));
  RunEnvironment env;
  env.backend_name = "simd";
  env.device_description = probe->Description();
  env.open_file = [path]() -> absl::StatusOr<OpenedFile> {
    XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<simd::RemoteBackend> file,
                           simd::RemoteBackend::Connect(path));
    const uint64_t id = file->file_id();
    return OpenedFile{std::move(file), id};
  };
  XEHIL_RETURN_IF_ERROR(AttachDaemonCapabilities(path, env));
  return env;
}

}  // namespace xehil
