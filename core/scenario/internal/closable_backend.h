// ClosableBackend: a KernelBackend wrapper that can close the DRM file it
// wraps while other threads (the recovery engine's worker) may still call
// into it. After Close() every ioctl answers -EBADF, as a closed fd would,
// instead of touching a destroyed backend. Used by the close_file step.
//
//   ClosableBackend file(std::move(backend));
//   XeDevice xe(file);  // the engine restarts VMs through it
//   file.Close();       // waits for in-flight calls, then releases the file
#ifndef XEHIL_CORE_SCENARIO_INTERNAL_CLOSABLE_BACKEND_H_
#define XEHIL_CORE_SCENARIO_INTERNAL_CLOSABLE_BACKEND_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/kernel_backend.h"

namespace xehil::scenario_internal {

class ClosableBackend : public KernelBackend {
 public:
  explicit ClosableBackend(std::unique_ptr<KernelBackend> inner);
  ~ClosableBackend() override;

  // -EBADF once closed.
  int Ioctl(unsigned long request, void* arg) override;
  // FAILED_PRECONDITION once closed.
  absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions& options) override;
  std::string Name() const override { return name_; }
  std::string Description() const override { return description_; }

  // Waits for calls in progress, then destroys the wrapped backend (which
  // releases the DRM file). Idempotent.
  void Close();
  bool closed() const;

  // The wrapped backend (null once closed); for identifying a simulator
  // file. Not synchronised with Close(): runner thread only.
  KernelBackend* inner() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return inner_.get();
  }

 private:
  const std::string name_;
  const std::string description_;
  mutable absl::Mutex mu_;  // reader: calls; writer: Close
  std::unique_ptr<KernelBackend> inner_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil::scenario_internal

#endif  // XEHIL_CORE_SCENARIO_INTERNAL_CLOSABLE_BACKEND_H_
