// The backend conformance suite on DrmBackend over /dev/dri/renderD128,
// wherever that node is xe-like: a simulated GPU under the LD_PRELOAD
// interposer (run by //sim/preload:drm_conformance_preload_test), or the
// vxe driver inside `xehil vm-run` (run by //vxe/tests:conformance_vxe_test).
//
// Faults and the VM observer come from the daemon's control channel when
// there is one: $XEHIL_SIMD_SOCKET (the interposer's daemon), else
// $XEHIL_VXE_CONTROL (the vxe guest daemon's control socket). Files are
// named by the daemon's id: under the interposer the newest file this
// process has open on it, on vxe the file's DRM client id.
// Without either, cases that need faults skip with the reason.
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/backend/conformance/conformance.h"
#include "core/backend/conformance/drm_env.h"
#include "gtest/gtest.h"
#include "sim/simd/control_capabilities.h"

namespace xehil {
namespace {

using conformance::BackendConformance;

absl::StatusOr<std::unique_ptr<conformance::ConformanceEnv>> MakeEnv() {
  // One control connection for the process: every case shares the daemon.
  static std::shared_ptr<simd::ControlCapabilities> caps;
  static std::string missing;
  static bool by_pid = false;  // the interposer's daemon: newest file of ours
  static bool connected = false;
  if (!connected) {
    connected = true;
    const char* socket = std::getenv("XEHIL_SIMD_SOCKET");
    by_pid = socket != nullptr && *socket != '\0';
    if (!by_pid) socket = std::getenv("XEHIL_VXE_CONTROL");
    if (socket == nullptr || *socket == '\0') {
      missing =
          "neither $XEHIL_SIMD_SOCKET nor $XEHIL_VXE_CONTROL names a device "
          "daemon's control socket";
    } else {
      absl::StatusOr<std::unique_ptr<simd::ControlCapabilities>> made =
          simd::ControlCapabilities::Connect(socket, "conformance");
      if (made.ok()) {
        caps = *std::move(made);
      } else {
        missing = absl::StrCat("control socket ", socket, ": ",
                               made.status().message());
      }
    }
  }
  conformance::DrmEnvOptions options;
  options.node = "/dev/dri/renderD128";
  options.faults = caps;
  options.observer = caps;
  options.faults_missing = missing;
  // On vxe the daemon names files by their DRM client id (the default).
  if (caps != nullptr && by_pid) {
    std::shared_ptr<simd::ControlCapabilities> control = caps;
    options.client_id = [control](int) -> absl::StatusOr<uint64_t> {
      absl::StatusOr<sim::DeviceStatus> status = control->Status();
      if (!status.ok()) return status.status();
      return simd::NewestFileOf(*status, static_cast<uint32_t>(::getpid()));
    };
  }
  return conformance::MakeDrmEnv(std::move(options));
}

INSTANTIATE_TEST_SUITE_P(Drm, BackendConformance,
                         ::testing::Values(conformance::ConformanceTarget{
                             "drm", MakeEnv}),
                         conformance::TargetName);

}  // namespace
}  // namespace xehil
