#include "sim/memory_model.h"

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"

namespace xehil::sim {

MemoryModel::MemoryModel(const std::vector<MemRegionSpec>& regions) {
  for (const MemRegionSpec& spec : regions) {
    if (spec.instance >= 32 || Known(spec.instance)) continue;
    regions_.push_back({spec, 0, 0});
    known_mask_ |= 1u << spec.instance;
  }
}

RegionUsage* MemoryModel::Find(uint16_t instance) {
  for (RegionUsage& region : regions_) {
    if (region.spec.instance == instance) return &region;
  }
  return nullptr;
}

const RegionUsage* MemoryModel::Find(uint16_t instance) const {
  return const_cast<MemoryModel*>(this)->Find(instance);
}

bool MemoryModel::Known(uint16_t instance) const {
  return instance < 32 && (known_mask_ & (1u << instance)) != 0;
}

bool MemoryModel::IsVram(uint16_t instance) const {
  const RegionUsage* region = Find(instance);
  return region != nullptr &&
         region->spec.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM;
}

uint32_t MemoryModel::Alignment(uint32_t placement) const {
  uint32_t alignment = 4096;
  for (const RegionUsage& region : regions_) {
    if (placement & (1u << region.spec.instance)) {
      alignment = std::max(alignment, region.spec.min_page_size);
    }
  }
  return alignment;
}

std::vector<uint16_t> MemoryModel::PlacementOrder(uint32_t placement) const {
  std::vector<uint16_t> vram;
  std::vector<uint16_t> sysmem;
  for (const RegionUsage& region : regions_) {
    if ((placement & (1u << region.spec.instance)) == 0) continue;
    (region.spec.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? vram : sysmem)
        .push_back(region.spec.instance);
  }
  std::sort(vram.begin(), vram.end());
  vram.insert(vram.end(), sysmem.begin(), sysmem.end());
  return vram;
}

int MemoryModel::PlacementError(uint32_t placement) const {
  for (uint16_t instance : PlacementOrder(placement)) {
    if (!IsVram(instance)) return -ENOMEM;
  }
  return -ENOSPC;
}

bool MemoryModel::Fits(uint16_t instance, uint64_t bytes) const {
  const RegionUsage* region = Find(instance);
  if (region == nullptr) return false;
  // Written as subtractions so that huge sizes cannot wrap around.
  uint64_t total = region->spec.total_bytes;
  if (region->pressure > total || region->used > total - region->pressure) {
    return false;
  }
  return bytes <= total - region->pressure - region->used;
}

int MemoryModel::Place(uint32_t placement, uint64_t bytes, uint16_t* instance) {
  for (uint16_t candidate : PlacementOrder(placement)) {
    if (Fits(candidate, bytes)) {
      Charge(candidate, bytes);
      *instance = candidate;
      return 0;
    }
  }
  return PlacementError(placement);
}

void MemoryModel::Charge(uint16_t instance, uint64_t bytes) {
  if (RegionUsage* region = Find(instance)) region->used += bytes;
}

void MemoryModel::Uncharge(uint16_t instance, uint64_t bytes) {
  if (RegionUsage* region = Find(instance)) {
    region->used -= std::min(region->used, bytes);
  }
}

absl::Status MemoryModel::AddPressure(uint16_t instance, uint64_t bytes) {
  RegionUsage* region = Find(instance);
  if (region == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no memory region with instance ", instance));
  }
  if (bytes > UINT64_MAX - region->pressure) {
    return absl::OutOfRangeError("pressure overflows 64 bits");
  }
  region->pressure += bytes;
  return absl::OkStatus();
}

absl::Status MemoryModel::RemovePressure(uint16_t instance, uint64_t bytes) {
  RegionUsage* region = Find(instance);
  if (region == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no memory region with instance ", instance));
  }
  if (bytes > region->pressure) {
    return absl::FailedPreconditionError(
        absl::StrCat("releasing ", bytes, " bytes of pressure from instance ",
                     instance, " which holds only ", region->pressure));
  }
  region->pressure -= bytes;
  return absl::OkStatus();
}

uint64_t MemoryModel::Overcommit(uint16_t instance) const {
  const RegionUsage* region = Find(instance);
  if (region == nullptr) return 0;
  uint64_t total = region->spec.total_bytes;
  // used and pressure are each bounded by 64 bits; compare without summing.
  if (region->pressure >= total) {
    uint64_t over = region->pressure - total;
    return region->used > UINT64_MAX - over ? UINT64_MAX : region->used + over;
  }
  uint64_t room = total - region->pressure;
  return region->used > room ? region->used - room : 0;
}

}  // namespace xehil::sim
