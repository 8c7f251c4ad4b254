#include "sim/simd/control_pressure_injector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil::simd {
namespace {

sim::ControlRequest PressureRequest(bool inject, uint16_t instance,
                                    uint64_t bytes) {
  sim::ControlRequest request;
  sim::RegionBytes* region = inject ? request.mutable_inject_pressure()
                                    : request.mutable_release_pressure();
  region->set_instance(instance);
  region->set_bytes(bytes);
  return request;
}

class ControlHolding : public PressureHolding {
 public:
  ControlHolding(std::shared_ptr<ControlCapabilities> control,
                 uint16_t instance, uint64_t bytes)
      : control_(std::move(control)), instance_(instance), bytes_(bytes) {}

  absl::Status Release() override {
    return control_->Send(PressureRequest(false, instance_, bytes_)).status();
  }

 private:
  const std::shared_ptr<ControlCapabilities> control_;
  const uint16_t instance_;
  const uint64_t bytes_;
};

}  // namespace

ControlPressureInjector::ControlPressureInjector(
    std::shared_ptr<ControlCapabilities> control)
    : control_(std::move(control)), reaper_(std::make_shared<LeaseReaper>()) {}

absl::Status ControlPressureInjector::CheckAvailable() const {
  if (control_ == nullptr) {
    return absl::FailedPreconditionError(
        "simd pressure needs a daemon's control connection");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PressureLease>> ControlPressureInjector::Acquire(
    const PressureSpec& spec) {
  XEHIL_RETURN_IF_ERROR(CheckAvailable());
  XEHIL_RETURN_IF_ERROR(ValidatePressureSpec(spec));
  // Check and injection are one step for this injector's leases (another
  // client of the daemon may still inject in between).
  absl::MutexLock lock(&mu_);
  absl::StatusOr<sim::DeviceStatus> status = control_->Status();
  if (!status.ok()) return status.status();
  const sim::Region* region = nullptr;
  for (const sim::Region& r : status->regions()) {
    if (r.instance() == spec.region_instance) region = &r;
  }
  if (region == nullptr) {
    return absl::NotFoundError(absl::StrCat(status->description(),
                                            " has no memory region instance ",
                                            spec.region_instance));
  }
  const uint64_t total = region->total_bytes();
  const uint64_t held = std::min(region->pressure_bytes(), total);
  if (spec.bytes > total - held) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "simd region ", spec.region_instance, ": pressure of ",
        DescribeBytes(spec.bytes), " does not fit its ", DescribeBytes(total),
        " (", DescribeBytes(region->pressure_bytes()),
        " already held as pressure)"));
  }
  XEHIL_RETURN_IF_ERROR(
      control_->Send(PressureRequest(true, spec.region_instance, spec.bytes))
          .status());
  return PressureLease::Create(
      absl::StrCat("simd region ", spec.region_instance, ": ",
                   DescribeBytes(spec.bytes)),
      spec.bytes,
      std::make_unique<ControlHolding>(control_, spec.region_instance,
                                       spec.bytes),
      spec.ttl, reaper_);
}

}  // namespace xehil::simd
