// SimBackend's DEVICE_QUERY two-call protocol and the ioctls around the
// objects: unknown requests, DRM_IOCTL_VERSION, names and counters.
#include <cerrno>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

class SimQuery : public ::testing::Test {
 protected:
  std::shared_ptr<Device> device_ = *Device::Create("dg2-16g");
  std::unique_ptr<SimBackend> file_ = device_->Open();
};

TEST_F(SimQuery, MemRegionsQueryReportsSizeThenData) {
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  ASSERT_EQ(query.size,
            sizeof(drm_xe_query_mem_regions) + 2 * sizeof(drm_xe_mem_region));
  std::vector<uint8_t> data(query.size);
  query.data = reinterpret_cast<uintptr_t>(data.data());
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  const auto* regions =
      reinterpret_cast<drm_xe_query_mem_regions*>(data.data());
  ASSERT_EQ(regions->num_mem_regions, 2u);
  EXPECT_EQ(regions->mem_regions[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  EXPECT_EQ(regions->mem_regions[0].instance, 0);
  EXPECT_EQ(regions->mem_regions[0].total_size, 32 * kGiB);
  EXPECT_EQ(regions->mem_regions[1].mem_class, DRM_XE_MEM_REGION_CLASS_VRAM);
  EXPECT_EQ(regions->mem_regions[1].instance, 1);
  EXPECT_EQ(regions->mem_regions[1].min_page_size, 65536u);
  EXPECT_EQ(regions->mem_regions[1].total_size, 16 * kGiB);
  EXPECT_EQ(regions->mem_regions[1].used, 0u);
}

TEST_F(SimQuery, MemRegionsQueryReportsUsedIncludingPressure) {
  uint32_t bo = 0;
  ASSERT_EQ(GemCreate(*file_, 2 * kMiB, kVram, &bo), 0);
  ASSERT_TRUE(device_->InjectPressure(1, 1 * kGiB).ok());
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  std::vector<uint8_t> data(query.size);
  query.data = reinterpret_cast<uintptr_t>(data.data());
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  const auto* regions =
      reinterpret_cast<drm_xe_query_mem_regions*>(data.data());
  EXPECT_EQ(regions->mem_regions[1].used, 1 * kGiB + 2 * kMiB);
  EXPECT_EQ(regions->mem_regions[1].total_size, 16 * kGiB);
  EXPECT_EQ(regions->mem_regions[0].used, 0u);
}

TEST_F(SimQuery, EnginesQueryListsTheProfileEngines) {
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_ENGINES;
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  std::vector<uint8_t> data(query.size);
  query.data = reinterpret_cast<uintptr_t>(data.data());
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), 0);
  const auto* engines = reinterpret_cast<drm_xe_query_engines*>(data.data());
  const auto& expected = device_->profile().engines;
  ASSERT_EQ(engines->num_engines, expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(engines->engines[i].instance.engine_class,
              expected[i].engine_class);
    EXPECT_EQ(engines->engines[i].instance.engine_instance,
              expected[i].engine_instance);
  }
}

TEST_F(SimQuery, QueryValidationErrorsAreEinval) {
  std::vector<uint8_t> data(4096);
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  query.data = reinterpret_cast<uintptr_t>(data.data());
  query.size = 8;  // too small
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), -EINVAL);
  query.size = 4096;  // not the size the kernel reported either
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), -EINVAL);
  query = {};
  query.query = 7;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), -EINVAL);
  query = {};
  query.extensions = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), -EINVAL);
  query = {};
  query.reserved[1] = 1;
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query), -EINVAL);
}

TEST_F(SimQuery, UnknownRequestsAreEnotty) {
  uint8_t buffer[256] = {};
  // EXEC is real xe but not simulated; a known number with the wrong size is
  // a different request.
  EXPECT_EQ(file_->Ioctl(DRM_IOW(DRM_COMMAND_BASE + 0x09, uint8_t[56]), buffer),
            -ENOTTY);
  EXPECT_EQ(
      file_->Ioctl(DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_VM_CREATE, uint8_t[16]),
                   buffer),
      -ENOTTY);
  EXPECT_EQ(device_->counters().Ioctls("UNKNOWN", -ENOTTY), 2u);
}

TEST_F(SimQuery, NullArgumentIsEfault) {
  EXPECT_EQ(file_->Ioctl(DRM_IOCTL_XE_VM_CREATE, nullptr), -EFAULT);
}

TEST_F(SimQuery, VersionReportsDriverXe) {
  char name[8] = {};
  drm_version version{};
  version.name = name;
  version.name_len = sizeof(name);
  ASSERT_EQ(file_->Ioctl(DRM_IOCTL_VERSION, &version), 0);
  EXPECT_EQ(version.name_len, 2u);
  EXPECT_STREQ(name, "xe");
}

TEST_F(SimQuery, NameAndDescription) {
  EXPECT_EQ(file_->Name(), "sim");
  EXPECT_EQ(file_->Description(), "simulated dg2-16g (VRAM 16 GiB)");
}

TEST_F(SimQuery, CountsIoctlsByNameAndResult) {
  uint32_t vm = 0;
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  ASSERT_EQ(VmCreate(*file_, kLr, &vm), 0);
  EXPECT_EQ(VmDestroy(*file_, 9), -ENOENT);
  DeviceCounters counters = device_->counters();
  EXPECT_EQ(counters.Ioctls("VM_CREATE", 0), 2u);
  EXPECT_EQ(counters.Ioctls("VM_DESTROY", -ENOENT), 1u);
  EXPECT_EQ(counters.Ioctls("VM_DESTROY", 0), 0u);
}

}  // namespace
}  // namespace xehil::sim
