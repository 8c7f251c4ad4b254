// The backend conformance suite (core/backend/conformance) on the in-process
// simulator: SimBackend files on one sim::Device per case, faults and the VM
// observer through SimCapabilities.
#include <memory>

#include "core/backend/conformance/conformance.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_capabilities.h"

namespace xehil::sim {
namespace {

using conformance::BackendConformance;

class SimEnv : public conformance::ConformanceEnv {
 public:
  explicit SimEnv(std::shared_ptr<Device> device) : caps_(std::move(device)) {}
  absl::StatusOr<OpenedFile> OpenFile() override { return caps_.OpenFile(); }
  FaultInjector* Faults() override { return &caps_; }
  VmObserver* Observer() override { return &caps_; }

 private:
  SimCapabilities caps_;
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
