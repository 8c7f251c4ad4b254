// RunEnvironment: what a scenario runs against — a way to open DRM files on
// one device, the simulated device behind them if there is one (for scripted
// faults and the simulator's view of VM states), a pressure injector, and
// names for the report. The runner (runner.h) never asks which backend it
// has beyond `sim_device` being null or not.
//
//   // The simulator (a fresh device per run):
//   XEHIL_ASSIGN_OR_RETURN(RunEnvironment env, MakeSimEnvironment("dg2-16g"));
//
//   // Hardware:
//   RunEnvironment env;
//   env.open_file = [path]() -> absl::StatusOr<std::unique_ptr<KernelBackend>>
//   {
//     XEHIL_ASSIGN_OR_RETURN(auto b, DrmBackend::Open(path));
//     return std::unique_ptr<KernelBackend>(std::move(b));
//   };
//   env.pressure = &my_vram_injector;  // or null: pressure steps are skipped
//   env.backend_name = "xe";
//   env.device_description = "...";
#ifndef XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_
#define XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"
#include "core/pressure/pressure_injector.h"
#include "sim/device.h"

namespace xehil {

struct RunEnvironment {
  // Opens a new DRM file on the device under test. Called once per
  // Setup.files entry, from the runner's thread.
  std::function<absl::StatusOr<std::unique_ptr<KernelBackend>>()> open_file;

  // The simulated device the files are opened on; null on hardware, where
  // scripted faults are skipped ("scripted faults need the simulator") and
  // VM states come from the recovery engine alone.
  std::shared_ptr<sim::Device> sim_device;

  // Takes memory for inject_pressure steps; null: those steps (and their
  // release_pressure) are skipped with a reason.
  PressureInjector* pressure = nullptr;
  // Keeps an injector the environment made itself (MakeSimEnvironment);
  // `pressure` points at it.
  std::shared_ptr<PressureInjector> owned_pressure;

  std::string backend_name;        // "sim" or "xe", for the report
  std::string device_description;  // one line, for the report
};

// A fresh simulated device with the named built-in profile ("dg2-16g",
// "bmg-12g", "lnl-igpu"; "" means "dg2-16g"), files opened with
// Device::Open(), and a SimPressureInjector on it. NOT_FOUND for an unknown
// profile (the message lists the known ones).
absl::StatusOr<RunEnvironment> MakeSimEnvironment(const std::string& profile);

// The profile a scenario runs on in the simulator: `override_profile` if set,
// else the scenario's device_profile, else "dg2-16g".
std::string SimProfileFor(const std::string& scenario_profile,
                          const std::string& override_profile);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_RUN_ENVIRONMENT_H_
