// PressureInjector: takes memory away from the GPU driver on purpose, so that
// its preempt-rebind workers fail and the VM-error loop runs. Three kinds
// share this interface (and the lab agent hands their leases out over gRPC):
//   "sim"     SimPressureInjector: pressure inside a sim::Device;
//   "sysmem"  SysmemPressureInjector: locked system memory in this process,
//             never below a floor of MemAvailable;
//   "xe-vram" BoPressureInjector: VRAM BOs on a separate DRM file.
//
//   std::unique_ptr<PressureInjector> injector = MakeXeVramInjector();
//   if (absl::Status s = injector->CheckAvailable(); !s.ok()) ...  // why not
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<PressureLease> lease,
//                          injector->Acquire({/*region_instance=*/1,
//                                             /*bytes=*/1ull << 30,
//                                             /*ttl=*/absl::Seconds(60)}));
//   ... run the workload; lease->Release() or let it expire.
//
// Implementations are thread-safe; leases may outlive their injector.
#ifndef XEHIL_CORE_PRESSURE_PRESSURE_INJECTOR_H_
#define XEHIL_CORE_PRESSURE_PRESSURE_INJECTOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/pressure/pressure_lease.h"

namespace xehil {

struct PressureSpec {
  // Memory region (drm_xe_mem_region.instance); ignored by "sysmem".
  uint16_t region_instance = 0;
  uint64_t bytes = 0;
  // > 0: the lease releases itself after this long. Zero: no expiry.
  absl::Duration ttl = absl::ZeroDuration();
};

class PressureInjector {
 public:
  virtual ~PressureInjector() = default;

  // "sim", "sysmem" or "xe-vram".
  virtual std::string Name() const = 0;

  // OK if Acquire can work here; otherwise FAILED_PRECONDITION naming what
  // is missing (no xe render node, no /proc/meminfo, ...).
  virtual absl::Status CheckAvailable() const = 0;

  // Takes spec.bytes and holds them until the lease is released. On failure
  // nothing stays taken. INVALID_ARGUMENT for bytes == 0 or a negative TTL;
  // RESOURCE_EXHAUSTED when the memory is not there (or a safety limit would
  // be crossed).
  virtual absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) = 0;
};

// The checks every Acquire starts with (INVALID_ARGUMENT).
absl::Status ValidatePressureSpec(const PressureSpec& spec);

// "67108864 bytes (64.0 MiB)": exact for people comparing numbers.
std::string DescribeBytes(uint64_t bytes);

}  // namespace xehil

#endif  // XEHIL_CORE_PRESSURE_PRESSURE_INJECTOR_H_
