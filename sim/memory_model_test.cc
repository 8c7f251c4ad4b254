#include "sim/memory_model.h"

#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::sim {
namespace {

using ::testing::ElementsAre;

MemoryModel Discrete() {
  return MemoryModel({{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 4 * kMiB, 4096},
                      {DRM_XE_MEM_REGION_CLASS_VRAM, 1, 2 * kMiB, 65536}});
}

TEST(MemoryModel, PrefersVramThenSystemMemory) {
  MemoryModel memory = Discrete();
  EXPECT_THAT(memory.PlacementOrder(0b11), ElementsAre(1, 0));
  EXPECT_THAT(memory.PlacementOrder(0b01), ElementsAre(0));
  EXPECT_EQ(memory.known_mask(), 0b11u);
  EXPECT_EQ(memory.Alignment(0b11), 65536u);
  EXPECT_EQ(memory.Alignment(0b01), 4096u);
}

TEST(MemoryModel, VramPreferredFallsBackToSystemMemory) {
  MemoryModel memory = Discrete();
  uint16_t where = 99;
  ASSERT_EQ(memory.Place(0b11, 2 * kMiB, &where), 0);
  EXPECT_EQ(where, 1);
  ASSERT_EQ(memory.Place(0b11, 1 * kMiB, &where), 0);
  EXPECT_EQ(where, 0);
  EXPECT_EQ(memory.regions()[0].used, 1 * kMiB);
  EXPECT_EQ(memory.regions()[1].used, 2 * kMiB);
}

TEST(MemoryModel, VramOnlyThatDoesNotFitIsEnospc) {
  MemoryModel memory = Discrete();
  uint16_t where = 0;
  EXPECT_EQ(memory.Place(0b10, 3 * kMiB, &where), -ENOSPC);
  EXPECT_EQ(memory.regions()[1].used, 0u);
}

TEST(MemoryModel, SystemMemoryThatDoesNotFitIsEnomem) {
  MemoryModel memory = Discrete();
  uint16_t where = 0;
  EXPECT_EQ(memory.Place(0b01, 5 * kMiB, &where), -ENOMEM);
  EXPECT_EQ(memory.Place(0b11, 5 * kMiB, &where), -ENOMEM);
}

TEST(MemoryModel, PressureTakesRoomAndCanOvercommit) {
  MemoryModel memory = Discrete();
  memory.Charge(1, 1 * kMiB);
  ASSERT_TRUE(memory.AddPressure(1, 1 * kMiB).ok());
  EXPECT_FALSE(memory.Fits(1, 4096));
  EXPECT_EQ(memory.Overcommit(1), 0u);
  ASSERT_TRUE(memory.AddPressure(1, 512 * kKiB).ok());
  EXPECT_EQ(memory.Overcommit(1), 512 * kKiB);
  ASSERT_TRUE(memory.RemovePressure(1, 1536 * kKiB).ok());
  EXPECT_TRUE(memory.Fits(1, 1 * kMiB));
}

TEST(MemoryModel, PressureErrorsAreSpecific) {
  MemoryModel memory = Discrete();
  EXPECT_EQ(memory.AddPressure(7, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(memory.RemovePressure(1, 1).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MemoryModel, HugeSizesNeverWrapAround) {
  MemoryModel memory = Discrete();
  uint16_t where = 0;
  EXPECT_EQ(memory.Place(0b01, UINT64_MAX, &where), -ENOMEM);
  ASSERT_TRUE(memory.AddPressure(0, UINT64_MAX).ok());
  EXPECT_FALSE(memory.Fits(0, 0));
  EXPECT_EQ(memory.AddPressure(0, 1).code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace xehil::sim
