// RunEnvironment: what a scenario runs against — a way to open DRM files on
// one device, and the capabilities the environment has beyond the UAPI
// (core/environment/capabilities.h: fault injection, a VM observer; memory
// pressure). The runner asks only for capabilities: a missing one turns the
// steps that need it into skips that give the environment's reason.
//
// Environments are made by name in one place, //environment:registry
// ("sim:dg2-16g", "simd:/run/xehil-simd.sock", "xe", "xe:/dev/dri/renderD128").
// Hand-made ones (tests) fill the fields directly:
//
//   RunEnvironment env;
//   env.open_file = [path]() -> absl::StatusOr<OpenedFile> { ... };
//   env.faults_missing = "a real xe driver has no per-VM fault injection";
//   env.backend_name = "xe";
#ifndef XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_
#define XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/environment/capabilities.h"
#include "core/pressure/pressure_injector.h"

namespace xehil {

struct RunEnvironment {
  // Opens a new DRM file on the device under test. Called once per
  // Setup.files entry, from the runner's thread.
  std::function<absl::StatusOr<OpenedFile>()> open_file;

  // Scripted faults (fault steps); null: they are skipped, saying
  // `faults_missing`.
  FaultInjector* faults = nullptr;
  std::string faults_missing = "this environment cannot inject faults";

  // Takes memory for inject_pressure steps; null: those steps (and their
  // release_pressure) are skipped, saying `pressure_missing`.
  PressureInjector* pressure = nullptr;
  std::string pressure_missing = "this environment has no pressure injector";

  // The device's own view of VM states; null: checks rely on what the
  // program saw through the UAPI (the recovery engine's view) alone.
  VmObserver* observer = nullptr;

  // Nothing but this environment uses the device (a fresh simulator), so a
  // tool may drive a demo workload on it without disturbing anyone.
  bool private_device = false;

  std::string backend_name;        // "sim", "simd" or "xe", for the report
  std::string device_description;  // one line, for the report

  // Whatever the capabilities above point into (devices, daemons' clients,
  // injectors); released with the environment.
  std::vector<std::shared_ptr<void>> owned;
};

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_
