// AgentBackend: what one agent acts on. With "sim" it owns one simulated
// device (sim::Device) for its whole life: "sim" pressure changes that
// device's memory regions, and scenarios run on it (so a controller's leases
// act on them, as they would on real hardware). With "xe" it keeps a file
// open on the xe render node, if there is one; the agent still starts
// without one, and says why wherever the device is needed.
//
// It also owns the pressure providers ("sim", "sysmem", "xe-vram"); a
// provider that cannot work here answers FAILED_PRECONDITION naming what is
// missing.
//
//   BackendOptions options;
//   options.backend = "sim";
//   options.device_profile = "bmg-12g";
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<AgentBackend> backend,
//                          AgentBackend::Create(options));
//   XEHIL_ASSIGN_OR_RETURN(PressureInjector * sim, backend->Provider("sim"));
//
// Thread-safe.
#ifndef XEHIL_TOOLS_AGENT_AGENT_BACKEND_H_
#define XEHIL_TOOLS_AGENT_AGENT_BACKEND_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/kernel_backend.h"
#include "core/device/xe_device.h"
#include "core/pressure/pressure_injector.h"
#include "core/pressure/sysmem_pressure_injector.h"
#include "core/scenario/run_environment.h"
#include "sim/device.h"

namespace xehil::agent {

struct BackendOptions {
  std::string backend = "sim";             // "sim" or "xe"
  std::string device_profile = "dg2-16g";  // sim
  std::string xe_path;                     // xe: "" finds the render node
  // The "sysmem" provider: floor, cap and where MemAvailable is read.
  SysmemPressureInjector::Options sysmem;
};

class AgentBackend {
 public:
  // INVALID_ARGUMENT for an unknown backend or device profile. A missing xe
  // device is not an error here (see device_status()).
  static absl::StatusOr<std::unique_ptr<AgentBackend>> Create(
      BackendOptions options);

  const std::string& name() const { return options_.backend; }
  const BackendOptions& options() const { return options_; }
  // OK, or why the device could not be opened (xe).
  const absl::Status& device_status() const { return device_status_; }
  std::string device_description() const;
  // The device's memory regions as its MEM_REGIONS query reports them.
  absl::StatusOr<std::vector<MemRegion>> Regions();
  // Null unless backend == "sim".
  const std::shared_ptr<sim::Device>& sim_device() const { return sim_; }

  // "sim", "sysmem", "xe-vram".
  static const std::vector<std::string>& ProviderNames();
  // INVALID_ARGUMENT for an unknown name; FAILED_PRECONDITION (naming what
  // is missing) for a provider that cannot work here.
  absl::StatusOr<PressureInjector*> Provider(const std::string& name);
  // Like Provider but also returns unavailable ones (for GetInfo).
  PressureInjector* ProviderOrNull(const std::string& name);

  // The total size of the region a provider would take from: the device's
  // region `instance` ("sim", "xe-vram"), MemTotal ("sysmem").
  // INVALID_ARGUMENT for a region the device does not have.
  absl::StatusOr<uint64_t> RegionTotal(const std::string& provider,
                                       uint16_t instance);

  // What a scenario runs on: the agent's own device with its capabilities
  // (environment/registry.h; for "sim" the device this backend keeps).
  // FAILED_PRECONDITION when the xe device is missing.
  absl::StatusOr<RunEnvironment> ScenarioEnvironment();

 private:
  explicit AgentBackend(BackendOptions options);

  const BackendOptions options_;
  std::shared_ptr<sim::Device> sim_;
  absl::Status device_status_;
  std::map<std::string, std::unique_ptr<PressureInjector>> providers_;

  absl::Mutex control_mu_;
  std::unique_ptr<KernelBackend> control_;  // for queries
  std::unique_ptr<XeDevice> control_xe_ ABSL_GUARDED_BY(control_mu_);
};

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_AGENT_BACKEND_H_
