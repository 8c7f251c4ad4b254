// XeDevice's record of the bindings made through it (BindingsOf), against
// the simulated kernel: what a shrinking recovery policy reads to find a
// VM's working set.
#include <cstdint>
#include <memory>

#include "core/base/errno_status.h"
#include "core/device/xe_device.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"

namespace xehil {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = 1024 * 1024;
constexpr uint32_t kSysmem = 1u << 0;

class XeDeviceBindingsTest : public ::testing::Test {
 protected:
  uint32_t Vm() {
    absl::StatusOr<uint32_t> vm = dev_.CreateVm(kRestartableLr);
    EXPECT_TRUE(vm.ok()) << vm.status();
    return vm.value_or(0);
  }
  uint32_t Bo(uint64_t size) {
    absl::StatusOr<uint32_t> bo = dev_.CreateBo(size, kSysmem);
    EXPECT_TRUE(bo.ok()) << bo.status();
    return bo.value_or(0);
  }

  std::shared_ptr<sim::Device> device_ = *sim::Device::Create("dg2-16g");
  std::unique_ptr<sim::SimBackend> backend_ = device_->Open();
  XeDevice dev_{*backend_};
};

TEST_F(XeDeviceBindingsTest, BindAddsBindingsInAddressOrder) {
  const uint32_t vm = Vm();
  const uint32_t a = Bo(2 * kMiB);
  const uint32_t b = Bo(kMiB);
  ASSERT_TRUE(dev_.BindBo(vm, a, 0, 8 * kMiB, 2 * kMiB).ok());
  ASSERT_TRUE(dev_.BindBo(vm, b, 0, 2 * kMiB, kMiB).ok());
  EXPECT_THAT(dev_.BindingsOf(vm),
              ElementsAre(Binding{b, 0, 2 * kMiB, kMiB},
                          Binding{a, 0, 8 * kMiB, 2 * kMiB}));
  EXPECT_THAT(dev_.BindingsOf(vm + 100), IsEmpty());
}

TEST_F(XeDeviceBindingsTest, FailedBindIsNotRecorded) {
  const uint32_t vm = Vm();
  const uint32_t a = Bo(kMiB);
  absl::Status bad = dev_.BindBo(vm, a + 100, 0, 2 * kMiB, kMiB);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(dev_.BindingsOf(vm), IsEmpty());
}

TEST_F(XeDeviceBindingsTest, UnbindRemovesCoveredAndSplitsPartlyCovered) {
  const uint32_t vm = Vm();
  const uint32_t a = Bo(4 * kMiB);
  const uint32_t b = Bo(kMiB);
  ASSERT_TRUE(dev_.BindBo(vm, a, 0, 16 * kMiB, 4 * kMiB).ok());
  ASSERT_TRUE(dev_.BindBo(vm, b, 0, 32 * kMiB, kMiB).ok());

  // The middle 2 MiB of `a`: two pieces stay, offsets follow the addresses.
  ASSERT_TRUE(dev_.Unbind(vm, 17 * kMiB, 2 * kMiB).ok());
  EXPECT_THAT(dev_.BindingsOf(vm),
              ElementsAre(Binding{a, 0, 16 * kMiB, kMiB},
                          Binding{a, 3 * kMiB, 19 * kMiB, kMiB},
                          Binding{b, 0, 32 * kMiB, kMiB}));

  ASSERT_TRUE(dev_.Unbind(vm, 32 * kMiB, kMiB).ok());
  EXPECT_THAT(dev_.BindingsOf(vm),
              ElementsAre(Binding{a, 0, 16 * kMiB, kMiB},
                          Binding{a, 3 * kMiB, 19 * kMiB, kMiB}));
}

TEST_F(XeDeviceBindingsTest, DestroyVmDropsItsBindingsOnly) {
  const uint32_t vm = Vm();
  const uint32_t other = Vm();
  const uint32_t a = Bo(kMiB);
  ASSERT_TRUE(dev_.BindBo(vm, a, 0, 2 * kMiB, kMiB).ok());
  ASSERT_TRUE(dev_.BindBo(other, a, 0, 2 * kMiB, kMiB).ok());
  ASSERT_TRUE(dev_.DestroyVm(vm).ok());
  EXPECT_THAT(dev_.BindingsOf(vm), IsEmpty());
  EXPECT_THAT(dev_.BindingsOf(other),
              ElementsAre(Binding{a, 0, 2 * kMiB, kMiB}));
}

}  // namespace
}  // namespace xehil
