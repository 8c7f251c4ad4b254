// The conformance environment of a real kernel's DRM files: DrmBackend on an
// xe render node (real xe, vxe, or a simulated one under the LD_PRELOAD
// interposer), with whatever fault injector and observer the caller has.
//
//   DrmEnvOptions options;
//   options.faults_missing = "a real xe host injects no faults here";
//   INSTANTIATE_TEST_SUITE_P(Xe, BackendConformance,
//       ::testing::Values(ConformanceTarget{"xe", [options] {
//         return MakeDrmEnv(options); }}), TargetName);
#ifndef XEHIL_CORE_BACKEND_CONFORMANCE_DRM_ENV_H_
#define XEHIL_CORE_BACKEND_CONFORMANCE_DRM_ENV_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/backend/conformance/conformance.h"
#include "core/environment/capabilities.h"

namespace xehil::conformance {

struct DrmEnvOptions {
  std::string node;  // "" : the first xe render node
  // Shared: one injector serves every case of a process.
  std::shared_ptr<FaultInjector> faults;
  std::string faults_missing = "no fault injector for this device";
  std::shared_ptr<VmObserver> observer;
  // The id capabilities name a newly opened file by; by default its DRM
  // client id (ReadDrmClientId, core/backend/drm_backend.h).
  std::function<absl::StatusOr<uint64_t>(int fd)> client_id;
};

// UNAVAILABLE (the suite skips) when there is no xe render node or the
// kernel has no watch queues; the message says which.
absl::StatusOr<std::unique_ptr<ConformanceEnv>> MakeDrmEnv(
    DrmEnvOptions options);

}  // namespace xehil::conformance

#endif  // XEHIL_CORE_BACKEND_CONFORMANCE_DRM_ENV_H_
