// sim::DeviceProfile: what a simulated Xe device looks like from userspace —
// its memory regions (class, instance, capacity, minimum page size), its
// engines and the features that change ioctl validation. Built-in profiles
// model real parts closely enough for the recovery path; tests may also build
// their own (for example a device with 1 MiB of VRAM).
//
//   absl::StatusOr<DeviceProfile> profile = FindProfile("dg2-16g");
//   if (!profile.ok()) return profile.status();  // NotFound names the known
//   ones auto device = Device::Create(*std::move(profile));
#ifndef XEHIL_SIM_DEVICE_PROFILE_H_
#define XEHIL_SIM_DEVICE_PROFILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/uapi/xe_uapi.h"

namespace xehil::sim {

inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;
inline constexpr uint64_t kGiB = 1024 * kMiB;

struct MemRegionSpec {
  uint16_t mem_class = DRM_XE_MEM_REGION_CLASS_SYSMEM;
  uint16_t instance = 0;  // bit number in drm_xe_gem_create.placement (< 32)
  uint64_t total_bytes = 0;
  uint32_t min_page_size = 4096;
};

struct EngineSpec {
  uint16_t engine_class = DRM_XE_ENGINE_CLASS_RENDER;
  uint16_t engine_instance = 0;
  uint16_t gt_id = 0;
};

struct DeviceProfile {
  std::string name;
  // Entry 0 is system memory, as the kernel reports it; instances are unique.
  std::vector<MemRegionSpec> regions;
  std::vector<EngineSpec> engines;
  // Whether VM_CREATE accepts FAULT_MODE (the kernel needs USM for it).
  bool supports_fault_mode = false;
};

// The built-in profiles: "dg2-16g", "bmg-12g", "lnl-igpu".
const std::vector<DeviceProfile>& BuiltinProfiles();

// A built-in profile by name; NotFound lists the known names.
absl::StatusOr<DeviceProfile> FindProfile(absl::string_view name);

// True if the profile has at least one VRAM region.
bool IsDiscrete(const DeviceProfile& profile);

// "simulated dg2-16g (VRAM 16 GiB)", "simulated lnl-igpu (integrated, system
// memory 16 GiB)".
std::string DescribeProfile(const DeviceProfile& profile);

// "16 GiB", "512 MiB", "4096 B": the largest unit that divides exactly.
std::string FormatBytes(uint64_t bytes);

}  // namespace xehil::sim

#endif  // XEHIL_SIM_DEVICE_PROFILE_H_
