// Test rig for the recovery engine: a real simulated device (sim::Device),
// one DRM file on it (sim::SimBackend) and the XeDevice client over that
// file, plus the real event loop (notification pipe subscribed with
// DRM_IOCTL_XE_WATCH_QUEUE -> Listener -> callback). No fakes.
//
//   SimRig rig;
//   uint32_t vm = *rig.MakeVm();
//   auto engine = *RecoveryEngine::Start(rig.xe());
//   auto listener = *StartLoop(rig.xe(), [&](const WatchEvent& e) {
//     engine->Post(e);
//   });
//   ASSERT_TRUE(rig.PauseVm(vm, -ENOMEM).ok());  // a VM_ERR is on its way
#ifndef XEHIL_INTEGRATION_RECOVERY_RECOVERY_TEST_UTIL_H_
#define XEHIL_INTEGRATION_RECOVERY_RECOVERY_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/monotonic_clock.h"
#include "core/device/xe_device.h"
#include "core/recovery/default_policy.h"
#include "core/recovery/recovery_engine.h"
#include "core/recovery/recovery_policy.h"
#include "core/watch/listener.h"
#include "sim/device.h"
#include "sim/sim_backend.h"

namespace xehil::recovery_test {

// Generous bound for waits that should take milliseconds; only reached when
// a test is failing.
inline constexpr std::chrono::seconds kTimeout{20};

class SimRig {
 public:
  SimRig();

  sim::Device& device() { return *device_; }
  sim::SimBackend& backend() { return *backend_; }
  XeDevice& xe() { return *xe_; }
  sim::FileId file() const { return backend_->file_id(); }

  // A RESTARTABLE LR VM with one 64 KiB system-memory BO bound at 1 MiB.
  absl::StatusOr<uint32_t> MakeVm();

  // Scripts the VM's next rebind to fail with `error`, runs the rebind
  // worker on it and waits until the simulated kernel is idle: the VM is
  // then paused (for -ENOMEM/-ENOSPC) and its VM_ERR record posted.
  absl::Status PauseVm(uint32_t vm_id, int error);

  // The simulated kernel's view of the VM.
  absl::StatusOr<sim::VmState> SimState(uint32_t vm_id);

 private:
  std::shared_ptr<sim::Device> device_;
  std::unique_ptr<sim::SimBackend> backend_;
  std::unique_ptr<XeDevice> xe_;
};

// Opens a notification pipe with `ring_notes`, subscribes it to the file
// behind `xe` and starts a Listener that hands every event to `callback`.
absl::StatusOr<std::unique_ptr<Listener>> StartLoop(XeDevice& xe,
                                                    Listener::Callback callback,
                                                    uint32_t ring_notes = 256);

// Starts an engine, failing the current test (and returning null) if it
// cannot.
std::unique_ptr<RecoveryEngine> StartEngine(
    XeDevice& xe, std::unique_ptr<RecoveryPolicy> policy = nullptr,
    RecoveryEngine::Options options = {});

// A VM_ERR event as the listener would deliver it, timestamped `ts` (now if
// 0).
VmError Err(uint32_t vm_id, int error, uint64_t ts = 0);

// A one-shot latch: Open() releases every Wait(), before or after.
class Latch {
 public:
  void Open();
  void Wait();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// An engine fed by a listener on `xe`'s file: the real loop. The listener's
// callback posts each event `copies` times (duplicated records). Members are
// destroyed in reverse: the listener stops first, as it calls the engine.
struct Loop {
  explicit Loop(XeDevice& xe, std::unique_ptr<RecoveryPolicy> policy = nullptr,
                RecoveryEngine::Options options = {}, int copies = 1);
  explicit Loop(SimRig& rig, std::unique_ptr<RecoveryPolicy> policy = nullptr,
                RecoveryEngine::Options options = {}, int copies = 1)
      : Loop(rig.xe(), std::move(policy), options, copies) {}

  // Waits for `predicate` on the engine's stats, then for the engine to have
  // nothing left to do.
  bool Settle(
      const std::function<bool(const RecoveryEngine::Stats&)>& predicate);

  std::unique_ptr<RecoveryEngine> engine;
  std::unique_ptr<Listener> listener;
};

// Backoff of 1, 2, 4, 8, 16, 16 ... ms: the default's shape, a short cap.
DefaultRecoveryPolicy::Options FastBackoff();

// The default policy, recording each OnVmError decision and each restart
// (BeforeRestart) with the time it happened.
class RecordingPolicy : public DefaultRecoveryPolicy {
 public:
  struct Entry {
    uint32_t vm_id;
    int consecutive;
    std::chrono::nanoseconds delay;
    std::chrono::steady_clock::time_point at;
  };
  explicit RecordingPolicy(const Options& options = {})
      : DefaultRecoveryPolicy(options) {}

  Decision OnVmError(RecoveryContext& ctx, const VmError& error,
                     const VmStatus& vm) override;
  absl::Status BeforeRestart(RecoveryContext& ctx, const VmStatus& vm) override;

  std::vector<Entry> decisions() const;
  std::vector<Entry> restarts() const;

 private:
  mutable std::mutex mu_;
  std::vector<Entry> decisions_;
  std::vector<Entry> restarts_;
};

// A RecoveryContext for calling a policy directly.
class TestContext : public RecoveryContext {
 public:
  explicit TestContext(XeDevice& xe) : xe_(xe) {}
  XeDevice& device() override { return xe_; }
  bool WaitFor(std::chrono::nanoseconds /*duration*/) override { return true; }
  bool stopping() const override { return false; }

 private:
  XeDevice& xe_;
};

}  // namespace xehil::recovery_test

#endif  // XEHIL_INTEGRATION_RECOVERY_RECOVERY_TEST_UTIL_H_
