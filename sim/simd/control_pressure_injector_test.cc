#include "sim/simd/control_pressure_injector.h"

#include "gtest/gtest.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using testing::ServerTest;

class ControlPressureTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    absl::StatusOr<std::unique_ptr<ControlCapabilities>> control =
        ControlCapabilities::Connect(socket_);
    ASSERT_TRUE(control.ok()) << control.status();
    injector_ = std::make_unique<ControlPressureInjector>(*std::move(control));
  }
  uint64_t PressureOn(uint32_t instance) {
    const sim::DeviceStatus status = Status();
    for (const sim::Region& region : status.regions()) {
      if (region.instance() == instance) return region.pressure_bytes();
    }
    ADD_FAILURE() << "no region " << instance;
    return 0;
  }

  std::unique_ptr<ControlPressureInjector> injector_;
};

TEST_F(ControlPressureTest, LeaseHoldsPressureUntilReleased) {
  ASSERT_TRUE(injector_->CheckAvailable().ok());
  absl::StatusOr<std::unique_ptr<PressureLease>> lease =
      injector_->Acquire({/*region_instance=*/1, 4 << 20});
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(PressureOn(1), 4u << 20);
  injector_.reset();  // the lease outlives its injector
  EXPECT_TRUE((*lease)->Release().ok());
  EXPECT_EQ(PressureOn(1), 0u);
}

TEST_F(ControlPressureTest, RefusesUnknownRegionsAndMoreThanTheRegionHolds) {
  EXPECT_EQ(injector_->Acquire({/*region_instance=*/7, 4096}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      injector_->Acquire({/*region_instance=*/1, 1ull << 40}).status().code(),
      absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(injector_->Acquire({/*region_instance=*/1, 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PressureOn(1), 0u);
}

}  // namespace
}  // namespace xehil::simd
