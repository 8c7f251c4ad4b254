#include "core/scenario/internal/closable_backend.h"

#include <cerrno>
#include <utility>

#include "absl/status/status.h"

namespace xehil::scenario_internal {

ClosableBackend::ClosableBackend(std::unique_ptr<KernelBackend> inner)
    : name_(inner->Name()),
      description_(inner->Description()),
      inner_(std::move(inner)) {}

ClosableBackend::~ClosableBackend() { Close(); }

int ClosableBackend::Ioctl(unsigned long request, void* arg) {
  absl::ReaderMutexLock lock(&mu_);
  if (inner_ == nullptr) return -EBADF;
  return inner_->Ioctl(request, arg);
}

absl::StatusOr<NotificationPipe> ClosableBackend::OpenNotificationPipe(
    const NotificationPipeOptions& options) {
  absl::ReaderMutexLock lock(&mu_);
  if (inner_ == nullptr) {
    return absl::FailedPreconditionError("the DRM file is closed");
  }
  return inner_->OpenNotificationPipe(options);
}

void ClosableBackend::Close() {
  std::unique_ptr<KernelBackend> closing;
  {
    absl::WriterMutexLock lock(&mu_);
    closing = std::move(inner_);
  }
  // Released outside the lock: the simulator posts removal records now.
  closing.reset();
}

bool ClosableBackend::closed() const {
  absl::ReaderMutexLock lock(&mu_);
  return inner_ == nullptr;
}

}  // namespace xehil::scenario_internal
