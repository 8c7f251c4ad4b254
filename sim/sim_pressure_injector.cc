#include "sim/sim_pressure_injector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil {
namespace {

class SimHolding : public PressureHolding {
 public:
  SimHolding(std::shared_ptr<sim::Device> device, uint16_t instance,
             uint64_t bytes)
      : device_(std::move(device)), instance_(instance), bytes_(bytes) {}

  absl::Status Release() override {
    return device_->ReleasePressure(instance_, bytes_);
  }

 private:
  const std::shared_ptr<sim::Device> device_;
  const uint16_t instance_;
  const uint64_t bytes_;
};

}  // namespace

SimPressureInjector::SimPressureInjector(std::shared_ptr<sim::Device> device)
    : device_(std::move(device)), reaper_(std::make_shared<LeaseReaper>()) {}

absl::Status SimPressureInjector::CheckAvailable() const {
  if (device_ == nullptr) {
    return absl::FailedPreconditionError(
        "sim pressure needs a simulated device");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PressureLease>> SimPressureInjector::Acquire(
    const PressureSpec& spec) {
  XEHIL_RETURN_IF_ERROR(CheckAvailable());
  XEHIL_RETURN_IF_ERROR(ValidatePressureSpec(spec));
  // Like real memory: no more pressure than the region holds. The check and
  // the injection are one step for this injector's leases.
  std::lock_guard<std::mutex> lock(mu_);
  for (const sim::RegionUsage& region : device_->Regions()) {
    if (region.spec.instance != spec.region_instance) continue;
    const uint64_t total = region.spec.total_bytes;
    const uint64_t held = std::min(region.pressure, total);
    if (spec.bytes > total - held) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "sim region ", spec.region_instance, ": pressure of ",
          DescribeBytes(spec.bytes), " does not fit its ", DescribeBytes(total),
          " (", DescribeBytes(region.pressure), " already held as pressure)"));
    }
  }
  XEHIL_RETURN_IF_ERROR(
      device_->InjectPressure(spec.region_instance, spec.bytes));
  return PressureLease::Create(
      absl::StrCat("sim region ", spec.region_instance, ": ",
                   DescribeBytes(spec.bytes)),
      spec.bytes,
      std::make_unique<SimHolding>(device_, spec.region_instance, spec.bytes),
      spec.ttl, reaper_);
}

}  // namespace xehil
