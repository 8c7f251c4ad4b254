// sim::MemoryModel: byte accounting for a simulated device's memory regions.
// Each region has a capacity, bytes used by resident BOs, and injected
// pressure (bytes taken by "someone else"). It decides where a BO goes and
// which errno a failed placement gives; the Device decides what to evict.
//
// Placement follows the kernel's preference: VRAM instances of the placement
// mask first (ascending), system memory last, so a BO with both VRAM and
// system bits ("VRAM-preferred") falls back to system memory. A BO that fits
// nowhere fails with -ENOSPC when its placement is VRAM-only and -ENOMEM when
// it may live in system memory.
//
// Not thread-safe: the Device calls it under its own mutex.
//
//   MemoryModel memory(profile.regions);
//   absl::StatusOr<uint16_t> where = memory.Place(placement, size);  // charged
//   ...
//   memory.Uncharge(*where, size);
#ifndef XEHIL_SIM_MEMORY_MODEL_H_
#define XEHIL_SIM_MEMORY_MODEL_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "sim/device_profile.h"

namespace xehil::sim {

struct RegionUsage {
  MemRegionSpec spec;
  uint64_t used = 0;      // bytes of resident BOs
  uint64_t pressure = 0;  // injected bytes
};

class MemoryModel {
 public:
  explicit MemoryModel(const std::vector<MemRegionSpec>& regions);

  // Bitmask of the known instances (valid GEM_CREATE placement bits).
  uint32_t known_mask() const { return known_mask_; }
  bool Known(uint16_t instance) const;
  bool IsVram(uint16_t instance) const;

  // Largest min_page_size among the placement's regions (size alignment).
  uint32_t Alignment(uint32_t placement) const;

  // Instances to try for `placement`, most preferred first.
  std::vector<uint16_t> PlacementOrder(uint32_t placement) const;

  // The errno of a placement that fits nowhere: -ENOSPC or -ENOMEM.
  int PlacementError(uint32_t placement) const;

  // True if `bytes` more fit in `instance` beside used bytes and pressure.
  bool Fits(uint16_t instance, uint64_t bytes) const;

  // Charges `bytes` to the first instance of PlacementOrder where they fit;
  // returns it, or PlacementError() with nothing charged.
  int Place(uint32_t placement, uint64_t bytes, uint16_t* instance);

  void Charge(uint16_t instance, uint64_t bytes);
  void Uncharge(uint16_t instance, uint64_t bytes);

  // Pressure: unknown instance NotFound; releasing more than was injected
  // FailedPrecondition. Injecting may overcommit the region (see Overcommit).
  absl::Status AddPressure(uint16_t instance, uint64_t bytes);
  absl::Status RemovePressure(uint16_t instance, uint64_t bytes);

  // Bytes by which used + pressure exceeds the capacity (0 if it fits).
  uint64_t Overcommit(uint16_t instance) const;

  // The regions in profile order.
  const std::vector<RegionUsage>& regions() const { return regions_; }

 private:
  RegionUsage* Find(uint16_t instance);
  const RegionUsage* Find(uint16_t instance) const;

  std::vector<RegionUsage> regions_;
  uint32_t known_mask_ = 0;
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_MEMORY_MODEL_H_
