#include "core/scenario/internal/closable_backend.h"

#include <cerrno>
#include <mutex>
#include <utility>

#include "absl/status/status.h"

namespace xehil::scenario_internal {

ClosableBackend::ClosableBackend(std::unique_ptr<KernelBackend> inner)
    : name_(inner->Name()),
      description_(inner->Description()),
      inner_(std::move(inner)) {}

ClosableBackend::~ClosableBackend() { Close(); }

int ClosableBackend::Ioctl(unsigned long request, void* arg) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (inner_ == nullptr) return -EBADF;
  return inner_->Ioctl(request, arg);
}

absl::StatusOr<NotificationPipe> ClosableBackend::OpenNotificationPipe(
    const NotificationPipeOptions& options) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (inner_ == nullptr) {
    return absl::FailedPreconditionError("the DRM file is closed");
  }
  return inner_->OpenNotificationPipe(options);
}

void ClosableBackend::Close() {
  std::unique_ptr<KernelBackend> closing;
  {
    std::unique_lock<std::shared_mutex> lock(mu_);
    closing = std::move(inner_);
  }
  // Released outside the lock: the simulator posts removal records now.
  closing.reset();
}

bool ClosableBackend::closed() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return inner_ == nullptr;
}

}  // namespace xehil::scenario_internal
