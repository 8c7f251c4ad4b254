// Opens the backend a user names on the command line: "sim" (a fresh
// simulated device with the given profile) or "xe" (a real render node).
#ifndef XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_
#define XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"
#include "sim/device.h"

namespace xehil {

struct OpenedBackend {
  std::unique_ptr<KernelBackend> backend;
  // Set for "sim": the device behind the backend, for fault injection.
  std::shared_ptr<sim::Device> sim_device;
  sim::FileId sim_file = 0;
};

// `name`: "sim" or "xe". `sim_profile` picks the simulated device;
// `xe_path` an explicit render node (empty: discover). Unknown names are
// INVALID_ARGUMENT; a missing device says what is missing.
absl::StatusOr<OpenedBackend> OpenBackend(const std::string& name,
                                          const std::string& sim_profile,
                                          const std::string& xe_path);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_BACKEND_SELECT_H_
