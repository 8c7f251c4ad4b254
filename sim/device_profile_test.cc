#include "sim/device_profile.h"

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::sim {
namespace {

using ::testing::HasSubstr;

TEST(DeviceProfile, Dg2HasSysmemInstance0AndVramInstance1) {
  absl::StatusOr<DeviceProfile> profile = FindProfile("dg2-16g");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->regions.size(), 2u);
  EXPECT_EQ(profile->regions[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  EXPECT_EQ(profile->regions[0].instance, 0);
  EXPECT_EQ(profile->regions[0].total_bytes, 32 * kGiB);
  EXPECT_EQ(profile->regions[1].mem_class, DRM_XE_MEM_REGION_CLASS_VRAM);
  EXPECT_EQ(profile->regions[1].instance, 1);
  EXPECT_EQ(profile->regions[1].total_bytes, 16 * kGiB);
  EXPECT_EQ(profile->regions[1].min_page_size, 64 * 1024u);
  EXPECT_FALSE(profile->engines.empty());
  EXPECT_TRUE(IsDiscrete(*profile));
  EXPECT_FALSE(profile->supports_fault_mode);
}

TEST(DeviceProfile, BmgHas12GiBOfVram) {
  absl::StatusOr<DeviceProfile> profile = FindProfile("bmg-12g");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->regions.size(), 2u);
  EXPECT_EQ(profile->regions[1].mem_class, DRM_XE_MEM_REGION_CLASS_VRAM);
  EXPECT_EQ(profile->regions[1].total_bytes, 12 * kGiB);
  EXPECT_TRUE(profile->supports_fault_mode);
}

TEST(DeviceProfile, LunarLakeIsIntegratedWithSystemMemoryOnly) {
  absl::StatusOr<DeviceProfile> profile = FindProfile("lnl-igpu");
  ASSERT_TRUE(profile.ok()) << profile.status();
  ASSERT_EQ(profile->regions.size(), 1u);
  EXPECT_EQ(profile->regions[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  EXPECT_FALSE(IsDiscrete(*profile));
}

TEST(DeviceProfile, UnknownNameIsNotFoundAndListsKnownNames) {
  absl::StatusOr<DeviceProfile> profile = FindProfile("pvc");
  EXPECT_EQ(profile.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(profile.status().message(), HasSubstr("'pvc'"));
  EXPECT_THAT(profile.status().message(),
              HasSubstr("dg2-16g, bmg-12g, lnl-igpu"));
}

TEST(DeviceProfile, DescriptionNamesTheVramSize) {
  EXPECT_EQ(DescribeProfile(*FindProfile("dg2-16g")),
            "simulated dg2-16g (VRAM 16 GiB)");
  EXPECT_EQ(DescribeProfile(*FindProfile("lnl-igpu")),
            "simulated lnl-igpu (integrated, system memory 16 GiB)");
}

TEST(DeviceProfile, FormatsBytesInTheLargestExactUnit) {
  EXPECT_EQ(FormatBytes(16 * kGiB), "16 GiB");
  EXPECT_EQ(FormatBytes(1536 * kMiB), "1536 MiB");
  EXPECT_EQ(FormatBytes(4096), "4 KiB");
  EXPECT_EQ(FormatBytes(100), "100 B");
  EXPECT_EQ(FormatBytes(0), "0 B");
}

}  // namespace
}  // namespace xehil::sim
