#include "integration/recovery/recovery_test_util.h"

#include <time.h>

#include <utility>

#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "gtest/gtest.h"

namespace xehil::recovery_test {

SimRig::SimRig()
    : device_(*sim::Device::Create("dg2-16g")),
      backend_(device_->Open()),
      xe_(std::make_unique<XeDevice>(*backend_)) {}

absl::StatusOr<uint32_t> SimRig::MakeVm() {
  XEHIL_ASSIGN_OR_RETURN(uint32_t vm, xe_->CreateVm(kRestartableLr));
  constexpr uint64_t kSize = uint64_t{64} * 1024;
  XEHIL_ASSIGN_OR_RETURN(uint32_t bo, xe_->CreateBo(kSize, /*placement=*/1u));
  XEHIL_RETURN_IF_ERROR(xe_->BindBo(vm, bo, 0, /*addr=*/1u << 20, kSize));
  return vm;
}

absl::Status SimRig::PauseVm(uint32_t vm_id, int error) {
  XEHIL_RETURN_IF_ERROR(device_->FailNextRebinds(file(), vm_id, 1, error));
  XEHIL_RETURN_IF_ERROR(device_->TriggerRebind(file(), vm_id));
  device_->WaitIdle();
  return absl::OkStatus();
}

absl::StatusOr<sim::VmState> SimRig::SimState(uint32_t vm_id) {
  XEHIL_ASSIGN_OR_RETURN(sim::VmStatus status, device_->GetVm(file(), vm_id));
  return status.state;
}

absl::StatusOr<std::unique_ptr<Listener>> StartLoop(XeDevice& xe,
                                                    Listener::Callback callback,
                                                    uint32_t ring_notes) {
  NotificationPipeOptions options;
  options.ring_notes = ring_notes;
  XEHIL_ASSIGN_OR_RETURN(NotificationPipe pipe,
                         xe.WatchQueue(/*watch_id=*/1, options));
  return Listener::Start(std::move(pipe), std::move(callback));
}

std::unique_ptr<RecoveryEngine> StartEngine(
    XeDevice& xe, std::unique_ptr<RecoveryPolicy> policy,
    RecoveryEngine::Options options) {
  auto engine = RecoveryEngine::Start(xe, std::move(policy), options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

VmError Err(uint32_t vm_id, int error, uint64_t ts) {
  VmError e;
  e.vm_id = vm_id;
  e.error = error;
  e.timestamp_ns = ts != 0 ? ts : MonotonicNowNs();
  e.watch_id = 1;
  return e;
}

void Latch::Open() {
  absl::MutexLock lock(&mu_);
  open_ = true;
}

void Latch::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&open_));
}

Loop::Loop(XeDevice& xe, std::unique_ptr<RecoveryPolicy> policy,
           RecoveryEngine::Options options, int copies)
    : engine(StartEngine(xe, std::move(policy), options)) {
  if (engine == nullptr) return;
  auto started = StartLoop(xe, [this, copies](const WatchEvent& e) {
    for (int i = 0; i < copies; ++i) engine->Post(e);
  });
  EXPECT_TRUE(started.ok()) << started.status();
  if (started.ok()) listener = *std::move(started);
}

bool Loop::Settle(
    const std::function<bool(const RecoveryEngine::Stats&)>& predicate) {
  return engine != nullptr && engine->WaitFor(predicate, kTimeout) &&
         engine->WaitUntilQuiescent(kTimeout);
}

DefaultRecoveryPolicy::Options FastBackoff() {
  DefaultRecoveryPolicy::Options o;
  o.initial_backoff = std::chrono::milliseconds(1);
  o.backoff_factor = 2;
  o.max_backoff = std::chrono::milliseconds(16);
  return o;
}

Decision RecordingPolicy::OnVmError(RecoveryContext& ctx, const VmError& error,
                                    const VmStatus& vm) {
  Decision d = DefaultRecoveryPolicy::OnVmError(ctx, error, vm);
  absl::MutexLock lock(&mu_);
  decisions_.push_back({vm.vm_id, vm.consecutive_failures, d.delay,
                        std::chrono::steady_clock::now()});
  return d;
}

absl::Status RecordingPolicy::BeforeRestart(RecoveryContext& /*ctx*/,
                                            const VmStatus& vm) {
  absl::MutexLock lock(&mu_);
  restarts_.push_back({vm.vm_id, vm.consecutive_failures, vm.delay,
                       std::chrono::steady_clock::now()});
  return absl::OkStatus();
}

std::vector<RecordingPolicy::Entry> RecordingPolicy::decisions() const {
  absl::MutexLock lock(&mu_);
  return decisions_;
}

std::vector<RecordingPolicy::Entry> RecordingPolicy::restarts() const {
  absl::MutexLock lock(&mu_);
  return restarts_;
}

}  // namespace xehil::recovery_test
