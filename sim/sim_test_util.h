// Test helpers for the simulator: raw-ioctl shorthands that return 0 or
// -errno (so tests assert exact errnos), pipe readers that never block, a
// fixture with one file watching one pipe, and a gate that holds the rebind
// worker busy.
//
//   class Restart : public SimFileTest {};
//   TEST_F(Restart, Works) {
//     uint32_t vm = 0;
//     ASSERT_EQ(VmCreate(*file_, kRestartable, &vm), 0);
//     FailRebind(vm, -ENOSPC);
//     EXPECT_EQ(NextVmError(vm), -ENOSPC);
//   }
#ifndef XEHIL_SIM_SIM_TEST_UTIL_H_
#define XEHIL_SIM_SIM_TEST_UTIL_H_

#include <cerrno>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/kernel_backend.h"
#include "core/backend/testing/raw_ioctls.h"
#include "core/base/monotonic_clock.h"
#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"
#include "sim/device.h"
#include "sim/sim_backend.h"

namespace xehil::sim::testing {

inline constexpr uint32_t kLr = DRM_XE_VM_CREATE_FLAG_LR_MODE;
inline constexpr uint32_t kRestartable =
    DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
inline constexpr uint32_t kSysmem = 1u << 0;  // placement bit of instance 0
inline constexpr uint32_t kVram = 1u << 1;    // placement bit of instance 1

// Raw ioctls (core/backend/testing/raw_ioctls.h): 0 or -errno.
using raw_ioctl::BindBo;
using raw_ioctl::GemClose;
using raw_ioctl::GemCreate;
using raw_ioctl::Unbind;
using raw_ioctl::VmCreate;
using raw_ioctl::VmDestroy;
int ExecQueueCreate(KernelBackend& backend, uint32_t vm_id, uint32_t* id,
                    drm_xe_engine_class_instance engine = {});
using raw_ioctl::ExecQueueDestroy;
using raw_ioctl::Restart;
using raw_ioctl::Watch;

// An LR VM (flags) with one BO of `size` in `placement`, bound at 1 MiB.
// Returns 0 or the first failing ioctl's -errno.
int VmWithBo(KernelBackend& backend, uint32_t flags, uint64_t size,
             uint32_t placement, uint32_t* vm_id, uint32_t* bo);

// Everything queued in the pipe right now (FIONREAD), read without blocking.
std::vector<uint8_t> ReadAvailable(int fd);

// A VM_ERR record as the pipe carries it, decoded field by field.
struct VmErrFields {
  uint32_t type = 0;
  uint32_t subtype = 0;
  uint32_t info = 0;
  uint32_t vm_id = 0;
  int32_t error = 0;
  uint64_t timestamp_ns = 0;
};
VmErrFields DecodeVmErr(const uint8_t* bytes);

// The 24 bytes of a VM_ERR record for `vm_id` (watch id 0), as a kernel
// posts it.
std::vector<uint8_t> EncodeVmErr(uint32_t vm_id, int32_t error = -ENOMEM);

// A small discrete device (64 MiB system memory, 16 MiB VRAM with 4 KiB
// pages, one render engine, page faults supported): pressure in MiB.
DeviceProfile TinyProfile();

// One DRM file on a fresh device, with a notification pipe watched as id 1.
class SimFileTest : public ::testing::Test {
 protected:
  explicit SimFileTest(DeviceProfile profile = TinyProfile());
  void SetUp() override;

  VmState StateOf(uint32_t vm);
  // Reads exactly one VM_ERR record for `vm` from pipe_; returns its errno
  // (a test failure and 0 if the pipe does not hold exactly one record).
  int NextVmError(uint32_t vm);
  // Scripts one rebind failure, triggers the rebind and waits for the worker.
  void FailRebind(uint32_t vm, int error);

  std::shared_ptr<Device> device_;
  std::unique_ptr<SimBackend> file_;
  NotificationPipe pipe_;
};

// Holds the rebind worker inside Device's testing hook until opened:
//   device->SetRebindHookForTesting([&](FileId, uint32_t) { gate.Enter(); });
class WorkerGate {
 public:
  void Enter();        // on the worker: signal entry, block until Open()
  void WaitEntered();  // on the test thread
  void Open();

 private:
  absl::Mutex mu_;
  bool entered_ ABSL_GUARDED_BY(mu_) = false;
  bool open_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace xehil::sim::testing

#endif  // XEHIL_SIM_SIM_TEST_UTIL_H_
