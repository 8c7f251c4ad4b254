#include "sim/device_profile.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace xehil::sim {
namespace {

constexpr uint16_t kRender = DRM_XE_ENGINE_CLASS_RENDER;
constexpr uint16_t kCopy = DRM_XE_ENGINE_CLASS_COPY;
constexpr uint16_t kDecode = DRM_XE_ENGINE_CLASS_VIDEO_DECODE;
constexpr uint16_t kEnhance = DRM_XE_ENGINE_CLASS_VIDEO_ENHANCE;
constexpr uint16_t kCompute = DRM_XE_ENGINE_CLASS_COMPUTE;

MemRegionSpec Sysmem(uint64_t bytes) {
  return {DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, bytes, 4096};
}

MemRegionSpec Vram(uint16_t instance, uint64_t bytes, uint32_t min_page) {
  return {DRM_XE_MEM_REGION_CLASS_VRAM, instance, bytes, min_page};
}

std::vector<DeviceProfile> MakeBuiltins() {
  std::vector<DeviceProfile> profiles;
  // Alchemist (DG2, Arc A770 16 GB): VRAM needs 64 KiB pages, no USM.
  profiles.push_back({"dg2-16g",
                      {Sysmem(32 * kGiB), Vram(1, 16 * kGiB, 64 * 1024)},
                      {{kRender, 0, 0},
                       {kCopy, 0, 0},
                       {kDecode, 0, 0},
                       {kDecode, 1, 0},
                       {kEnhance, 0, 0},
                       {kEnhance, 1, 0},
                       {kCompute, 0, 0},
                       {kCompute, 1, 0},
                       {kCompute, 2, 0},
                       {kCompute, 3, 0}},
                      /*supports_fault_mode=*/false});
  // Battlemage (B580-class, 12 GB): Xe2, page faults supported.
  profiles.push_back({"bmg-12g",
                      {Sysmem(32 * kGiB), Vram(1, 12 * kGiB, 4096)},
                      {{kRender, 0, 0},
                       {kCopy, 0, 0},
                       {kDecode, 0, 0},
                       {kDecode, 1, 0},
                       {kEnhance, 0, 0},
                       {kCompute, 0, 0}},
                      /*supports_fault_mode=*/true});
  // Lunar Lake integrated GPU: system memory only; media engines on GT 1.
  profiles.push_back({"lnl-igpu",
                      {Sysmem(16 * kGiB)},
                      {{kRender, 0, 0},
                       {kCopy, 0, 0},
                       {kCompute, 0, 0},
                       {kDecode, 0, 1},
                       {kEnhance, 0, 1}},
                      /*supports_fault_mode=*/true});
  return profiles;
}

}  // namespace

const std::vector<DeviceProfile>& BuiltinProfiles() {
  static const std::vector<DeviceProfile>* const profiles =
      new std::vector<DeviceProfile>(MakeBuiltins());
  return *profiles;
}

absl::StatusOr<DeviceProfile> FindProfile(absl::string_view name) {
  std::vector<std::string> names;
  for (const DeviceProfile& profile : BuiltinProfiles()) {
    if (profile.name == name) return profile;
    names.push_back(profile.name);
  }
  return absl::NotFoundError(
      absl::StrCat("unknown device profile '", name,
                   "'; known profiles: ", absl::StrJoin(names, ", ")));
}

bool IsDiscrete(const DeviceProfile& profile) {
  for (const MemRegionSpec& region : profile.regions) {
    if (region.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) return true;
  }
  return false;
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes != 0 && bytes % kGiB == 0) {
    return absl::StrCat(bytes / kGiB, " GiB");
  }
  if (bytes != 0 && bytes % kMiB == 0) {
    return absl::StrCat(bytes / kMiB, " MiB");
  }
  if (bytes != 0 && bytes % kKiB == 0) {
    return absl::StrCat(bytes / kKiB, " KiB");
  }
  return absl::StrCat(bytes, " B");
}

std::string DescribeProfile(const DeviceProfile& profile) {
  uint64_t vram = 0;
  uint64_t sysmem = 0;
  for (const MemRegionSpec& region : profile.regions) {
    (region.mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? vram : sysmem) +=
        region.total_bytes;
  }
  if (IsDiscrete(profile)) {
    return absl::StrCat("simulated ", profile.name, " (VRAM ",
                        FormatBytes(vram), ")");
  }
  return absl::StrCat("simulated ", profile.name,
                      " (integrated, system memory ", FormatBytes(sysmem), ")");
}

}  // namespace xehil::sim
