// The backend conformance suite (core/backend/conformance) on the in-process
// simulator: SimBackend files on one sim::Device per case, faults and the VM
// observer through DeviceCapabilities.
#include <memory>

#include "core/backend/conformance/conformance.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/device_capabilities.h"
#include "sim/sim_backend.h"

namespace xehil::sim {
namespace {

using conformance::BackendConformance;

class SimEnv : public conformance::ConformanceEnv {
 public:
  explicit SimEnv(std::shared_ptr<Device> device)
      : device_(device), caps_(std::move(device)) {}
  absl::StatusOr<OpenedFile> OpenFile() override {
    std::unique_ptr<SimBackend> backend = device_->Open();
    const uint64_t id = backend->file_id();
    return OpenedFile{std::move(backend), id};
  }
  FaultInjector* Faults() override { return &caps_; }
  VmObserver* Observer() override { return &caps_; }

 private:
  const std::shared_ptr<Device> device_;
  DeviceCapabilities caps_;
};

absl::StatusOr<std::unique_ptr<conformance::ConformanceEnv>> MakeSimEnv() {
  absl::StatusOr<std::shared_ptr<Device>> device = Device::Create("dg2-16g");
  if (!device.ok()) return device.status();
  return std::make_unique<SimEnv>(*std::move(device));
}

INSTANTIATE_TEST_SUITE_P(InProcess, BackendConformance,
                         ::testing::Values(conformance::ConformanceTarget{
                             "sim", MakeSimEnv}),
                         conformance::TargetName);

}  // namespace
}  // namespace xehil::sim
