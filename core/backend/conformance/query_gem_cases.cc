// Conformance cases for DEVICE_QUERY and GEM_CREATE/GEM_CLOSE: success and
// the exact errnos of uapi.md. Field checks use values no xe version accepts
// (an unknown query id, flag bits above every defined one).
#include <cerrno>
#include <cstring>
#include <vector>

#include "core/backend/conformance/conformance.h"

namespace xehil::conformance {
namespace {

drm_xe_device_query SizeOf(KernelBackend& backend, uint32_t query) {
  drm_xe_device_query arg{};
  arg.query = query;
  EXPECT_EQ(backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg), 0);
  return arg;
}

TEST_P(BackendConformance, MemRegionsQueryReportsItsSizeThenItsRegions) {
  drm_xe_device_query arg = SizeOf(file(), DRM_XE_DEVICE_QUERY_MEM_REGIONS);
  ASSERT_GT(arg.size, sizeof(drm_xe_query_mem_regions));
  ASSERT_EQ(
      (arg.size - sizeof(drm_xe_query_mem_regions)) % sizeof(drm_xe_mem_region),
      0u);
  std::vector<uint8_t> data(arg.size);
  arg.data = reinterpret_cast<uintptr_t>(data.data());
  ASSERT_EQ(file().Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg), 0);
  const auto* regions =
      reinterpret_cast<const drm_xe_query_mem_regions*>(data.data());
  ASSERT_EQ(arg.size, sizeof(drm_xe_query_mem_regions) +
                          regions->num_mem_regions * sizeof(drm_xe_mem_region));
  EXPECT_EQ(regions->mem_regions[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM)
      << "entry 0 is system memory";
  for (uint32_t i = 0; i < regions->num_mem_regions; ++i) {
    const drm_xe_mem_region& region = regions->mem_regions[i];
    EXPECT_LE(region.mem_class, DRM_XE_MEM_REGION_CLASS_VRAM) << i;
    EXPECT_GE(region.min_page_size, 4096u) << i;
    EXPECT_EQ(region.min_page_size & (region.min_page_size - 1), 0u) << i;
    EXPECT_GT(region.total_size, 0u) << i;
    EXPECT_LE(region.used, region.total_size) << i;
  }
}

TEST_P(BackendConformance, EnginesQueryReportsItsSizeThenItsEngines) {
  drm_xe_device_query arg = SizeOf(file(), DRM_XE_DEVICE_QUERY_ENGINES);
  ASSERT_GT(arg.size, sizeof(drm_xe_query_engines));
  std::vector<uint8_t> data(arg.size);
  arg.data = reinterpret_cast<uintptr_t>(data.data());
  ASSERT_EQ(file().Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg), 0);
  const auto* engines =
      reinterpret_cast<const drm_xe_query_engines*>(data.data());
  ASSERT_GE(engines->num_engines, 1u);
  EXPECT_EQ(arg.size, sizeof(drm_xe_query_engines) +
                          engines->num_engines * sizeof(drm_xe_engine));
  for (uint32_t i = 0; i < engines->num_engines; ++i) {
    EXPECT_LE(engines->engines[i].instance.engine_class,
              DRM_XE_ENGINE_CLASS_VM_BIND)
        << i;
  }
}

TEST_P(BackendConformance, DeviceQueryValidationIsEinvalOrEfault) {
  drm_xe_device_query sized = SizeOf(file(), DRM_XE_DEVICE_QUERY_MEM_REGIONS);
  std::vector<uint8_t> data(sized.size + 64);
  auto query = [&](auto mutate) {
    drm_xe_device_query arg = sized;
    arg.data = reinterpret_cast<uintptr_t>(data.data());
    mutate(arg);
    return file().Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg);
  };
  EXPECT_EQ(query([](drm_xe_device_query&) {}), 0);
  EXPECT_EQ(query([](drm_xe_device_query& a) { a.size -= 1; }), -EINVAL)
      << "smaller than the size the kernel reported";
  EXPECT_EQ(query([](drm_xe_device_query& a) { a.size += 8; }), -EINVAL)
      << "larger than the size the kernel reported";
  EXPECT_EQ(query([](drm_xe_device_query& a) { a.query = 0xffff; }), -EINVAL);
  EXPECT_EQ(query([](drm_xe_device_query& a) {
              a.query = 0xffff;
              a.size = 0;
            }),
            -EINVAL)
      << "an unknown query has no size either";
  EXPECT_EQ(query([](drm_xe_device_query& a) { a.reserved[1] = 1; }), -EINVAL);
  EXPECT_EQ(query([](drm_xe_device_query& a) { a.data = 0; }), -EFAULT);
}

// ---- GEM_CREATE / GEM_CLOSE ----

TEST_P(BackendConformance, GemCreateGivesDistinctNonZeroHandles) {
  uint32_t a = 0, b = 0;
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &a), 0);
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &b), 0);
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(GemClose(file(), a), 0);
  EXPECT_EQ(GemClose(file(), b), 0);
}

TEST_P(BackendConformance, GemCreateFieldValidationIsEinval) {
  const uint32_t sysmem = SysmemPlacement();
  auto create = [&](auto mutate) {
    drm_xe_gem_create arg{};
    arg.size = 64 * kKiB;
    arg.placement = sysmem;
    arg.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
    mutate(arg);
    return file().Ioctl(DRM_IOCTL_XE_GEM_CREATE, &arg);
  };
  EXPECT_EQ(create([](drm_xe_gem_create&) {}), 0);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.size = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.size = 100; }), -EINVAL)
      << "not a whole page";
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.placement = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.placement = 1u << 31; }),
            -EINVAL)
      << "no such region";
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.flags = 1u << 30; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.pad[1] = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.reserved[0] = 1; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.handle = 5; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.cpu_caching = 0; }), -EINVAL);
  EXPECT_EQ(create([](drm_xe_gem_create& a) { a.cpu_caching = 3; }), -EINVAL);
}

TEST_P(BackendConformance, GemCreateForAnUnknownVmIsEnoent) {
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  ASSERT_EQ(VmDestroy(file(), vm), 0);
  EXPECT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &bo, vm), -ENOENT);
}

TEST_P(BackendConformance, GemCloseOfUnknownHandleOrWithPadIsEinval) {
  uint32_t bo = 0;
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &bo), 0);
  drm_gem_close arg{};
  arg.handle = bo;
  arg.pad = 1;
  EXPECT_EQ(file().Ioctl(DRM_IOCTL_GEM_CLOSE, &arg), -EINVAL);
  EXPECT_EQ(GemClose(file(), bo), 0);
  EXPECT_EQ(GemClose(file(), bo), -EINVAL) << "closed twice";
  EXPECT_EQ(GemClose(file(), 0x7ffffff0), -EINVAL);
}

TEST_P(BackendConformance, HandlesAndVmIdsAreScopedToTheirFile) {
  OpenedFile other = OpenAnother();
  ASSERT_NE(other.backend, nullptr);
  uint32_t bo = 0, vm = 0;
  ASSERT_EQ(GemCreate(file(), 64 * kKiB, SysmemPlacement(), &bo), 0);
  ASSERT_EQ(VmCreate(file(), kLr, &vm), 0);
  EXPECT_EQ(GemClose(*other.backend, bo), -EINVAL);
  EXPECT_EQ(VmDestroy(*other.backend, vm), -ENOENT);
  EXPECT_EQ(GemClose(file(), bo), 0);
  EXPECT_EQ(VmDestroy(file(), vm), 0);
}

}  // namespace
}  // namespace xehil::conformance
