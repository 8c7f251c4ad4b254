// The backend conformance suite: every ioctl's success and error cases with
// the exact errnos of uapi.md, the watch-queue subscription rules,
// notification-pipe sequences and file release, written once against
// KernelBackend and run against each backend (TensorStore's idea: a testonly
// suite parameterised by a factory). Cases never assume a fresh device: they
// make their own VMs, BOs and pipes and compare relative facts. Cases that
// must provoke VM_ERR records need the environment's FaultInjector and skip
// with its reason without one.
//
// An instantiating test target depends on this library and says:
//
//   class SimEnv : public conformance::ConformanceEnv { ... };
//   using conformance::BackendConformance;  // the macro takes a bare name
//   INSTANTIATE_TEST_SUITE_P(
//       Sim, BackendConformance,
//       ::testing::Values(conformance::ConformanceTarget{
//           "sim", [] { return conformance::MakeSimEnv(); }}),
//       conformance::TargetName);
#ifndef XEHIL_CORE_BACKEND_CONFORMANCE_CONFORMANCE_H_
#define XEHIL_CORE_BACKEND_CONFORMANCE_CONFORMANCE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"
#include "core/backend/testing/raw_ioctls.h"
#include "core/environment/capabilities.h"
#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"

namespace xehil::conformance {

// One backend's device, as the suite sees it. Made fresh for each case
// (cheap environments may share a device behind it).
class ConformanceEnv {
 public:
  virtual ~ConformanceEnv() = default;
  // Opens a new DRM file on the device under test, with the id the
  // environment's capabilities name it by.
  virtual absl::StatusOr<OpenedFile> OpenFile() = 0;
  // Null when faults cannot be injected here; then FaultsMissing() says why.
  virtual FaultInjector* Faults() { return nullptr; }
  virtual std::string FaultsMissing() const {
    return "this environment cannot inject faults";
  }
  // Null when the device's own view of VMs is not available (cases then
  // check through the UAPI only).
  virtual VmObserver* Observer() { return nullptr; }
};

struct ConformanceTarget {
  std::string name;  // [A-Za-z0-9_]: the test-name suffix
  // UNAVAILABLE: the backend does not exist on this machine (no device, no
  // kernel feature): every case skips with the message. Other errors fail.
  std::function<absl::StatusOr<std::unique_ptr<ConformanceEnv>>()> make;
};

// gtest's name generator for INSTANTIATE_TEST_SUITE_P: the target's name.
std::string TargetName(const ::testing::TestParamInfo<ConformanceTarget>& info);
void PrintTo(const ConformanceTarget& target, std::ostream* os);

// Raw ioctls (core/backend/testing/raw_ioctls.h): 0 or -errno, so cases
// assert exact errnos.
using raw_ioctl::BindBo;
using raw_ioctl::ExecQueueCreate;
using raw_ioctl::ExecQueueDestroy;
using raw_ioctl::GemClose;
using raw_ioctl::GemCreate;
using raw_ioctl::Restart;
using raw_ioctl::Unbind;
using raw_ioctl::VmCreate;
using raw_ioctl::VmDestroy;
using raw_ioctl::Watch;
// DEVICE_QUERY's two calls; the payload, or -errno in *rc.
std::vector<uint8_t> Query(KernelBackend& backend, uint32_t query, int* rc);

inline constexpr uint32_t kLr = DRM_XE_VM_CREATE_FLAG_LR_MODE;
inline constexpr uint32_t kRestartable =
    DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
inline constexpr uint64_t kKiB = 1024;
inline constexpr uint64_t kMiB = 1024 * kKiB;

// A record as read from a pipe.
struct Record {
  uint32_t type = 0;
  uint32_t subtype = 0;
  uint32_t info = 0;
  std::vector<uint8_t> bytes;
  uint32_t length() const { return info & WATCH_INFO_LENGTH; }
  uint32_t watch_id() const { return (info & WATCH_INFO_ID) >> 8; }
  bool is_loss() const;
  bool is_removal() const;
  bool is_vm_err() const;
  uint32_t vm_id() const;      // VM_ERR only
  int32_t error() const;       // VM_ERR only
  uint64_t timestamp() const;  // VM_ERR only
};
// Splits a byte stream into records (a test failure if it does not end on a
// record boundary).
std::vector<Record> ParseRecords(const std::vector<uint8_t>& stream);

class BackendConformance : public ::testing::TestWithParam<ConformanceTarget> {
 protected:
  void SetUp() override;
  void TearDown() override;

  KernelBackend& file() { return *file_.backend; }
  // Another DRM file on the same device.
  OpenedFile OpenAnother();
  // The placement bit of system memory (from MEM_REGIONS).
  uint32_t SysmemPlacement();
  // An engine to put exec queues on: the first queried engine that is not
  // a VM_BIND engine.
  drm_xe_engine_class_instance AnEngine();
  // A notification pipe on `backend` (ring of `notes`, unfiltered).
  NotificationPipe OpenPipe(KernelBackend& backend, uint32_t notes = 32);
  // A VM (flags) with a 64 KiB system-memory BO bound at 1 MiB.
  uint32_t VmWithBo(KernelBackend& backend, uint32_t flags);

  // Fails the VM's next rebind with `error`, triggers it, waits for the
  // device to settle.
  void FailRebind(const OpenedFile& owner, uint32_t vm_id, int error);

  // Waits up to 10 s for the pipe to poll readable, then reads what one
  // read(2) returns (at most `size` bytes): bytes or -errno in *rc.
  std::vector<uint8_t> ReadOnce(const NotificationPipe& pipe, int* rc,
                                size_t size = 64 * 1024);
  // Everything queued now, without waiting (the read end is made
  // non-blocking): reads until EAGAIN or EOF.
  std::vector<uint8_t> ReadQueued(const NotificationPipe& pipe);
  // poll(2) of the read end with timeout 0: revents, or 0.
  short PollNow(const NotificationPipe& pipe);

  std::unique_ptr<ConformanceEnv> env_;
  OpenedFile file_;
};

}  // namespace xehil::conformance

// In a case that must provoke VM_ERR records: skips it, with the
// environment's reason, when there is no FaultInjector.
#define XEHIL_CONFORMANCE_NEEDS_FAULTS() \
  if (env_->Faults() == nullptr)         \
  GTEST_SKIP() << "needs fault injection: " << env_->FaultsMissing()

#endif  // XEHIL_CORE_BACKEND_CONFORMANCE_CONFORMANCE_H_
