#include "sim/device_capabilities.h"

#include <cerrno>

#include "gtest/gtest.h"
#include "sim/sim_backend.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

using namespace ::xehil::sim::testing;  // NOLINT(google-build-using-namespace)

// A DRM file on `device` with its client id.
OpenedFile OpenOn(const std::shared_ptr<Device>& device) {
  std::unique_ptr<SimBackend> backend = device->Open();
  const uint64_t id = backend->file_id();
  return OpenedFile{std::move(backend), id};
}

TEST(DeviceCapabilities, FaultsPauseAVmThatTheObserverThenSees) {
  std::shared_ptr<Device> device = Device::Create(TinyProfile());
  DeviceCapabilities caps(device);
  OpenedFile file = OpenOn(device);
  uint32_t vm = 0, bo = 0;
  ASSERT_EQ(VmWithBo(*file.backend, kRestartable, 1 * kMiB, kSysmem, &vm, &bo),
            0);
  ASSERT_TRUE(caps.FailNextRebinds(file.client_id, vm, 1, -ENOSPC).ok());
  ASSERT_TRUE(caps.TriggerRebind(file.client_id, vm).ok());
  ASSERT_TRUE(caps.WaitIdle().ok());
  absl::StatusOr<ObservedVm> seen = caps.GetVm(file.client_id, vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kPaused);
  EXPECT_EQ(seen->error, -ENOSPC);

  ASSERT_TRUE(caps.FailNextRestarts(file.client_id, vm, 1).ok());
  EXPECT_EQ(Restart(*file.backend, vm), -EAGAIN);
  EXPECT_EQ(Restart(*file.backend, vm), 0);
  seen = caps.GetVm(file.client_id, vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kHealthy);
  EXPECT_EQ(seen->error, 0);
}

TEST(DeviceCapabilities, UnknownFilesAndVmsAreNotFound) {
  std::shared_ptr<Device> device = Device::Create(TinyProfile());
  DeviceCapabilities caps(device);
  OpenedFile file = OpenOn(device);
  const uint64_t id = file.client_id;
  EXPECT_EQ(caps.FailNextRebinds(id, 9, 1, -ENOMEM).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(caps.GetVm(id, 9).status().code(), absl::StatusCode::kNotFound);
  file.backend.reset();
  EXPECT_EQ(caps.DropNextRecords(id, 1).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(caps.TriggerRebind(id, 1).code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xehil::sim
