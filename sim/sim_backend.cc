#include "sim/sim_backend.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "sim/ioctl_decode.h"
#include "sim/notification_queue.h"

namespace xehil::sim {

// Declared in device.h; lives here so that //sim:device does not depend on
// the backend that depends on it.
std::unique_ptr<SimBackend> Device::Open() {
  return std::make_unique<SimBackend>(shared_from_this());
}

SimBackend::SimBackend(std::shared_ptr<Device> device)
    : device_(std::move(device)), file_(device_->OpenFile()) {}

SimBackend::~SimBackend() { device_->ReleaseFile(file_); }

int SimBackend::Ioctl(unsigned long request, void* arg) {
  int rc = DispatchIoctl(*device_, file_, request, arg);
  device_->CountIoctl(IoctlName(request), rc);
  return rc;
}

absl::StatusOr<NotificationPipe> SimBackend::OpenNotificationPipe(
    const NotificationPipeOptions& options) {
  auto created = NotificationQueue::Create();
  if (!created.ok()) return created.status();
  auto [queue, pipe] = *std::move(created);
  if (int rc = queue->SetSize(options.ring_notes); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("IOC_WATCH_QUEUE_SET_SIZE(", options.ring_notes,
                     " notes): ", DescribeErrno(rc)));
  }
  if (options.filter.has_value()) {
    // The ioctl's layout: the header followed by nr_filters entries.
    const auto& entries = *options.filter;
    std::vector<uint8_t> buffer(sizeof(watch_notification_filter) +
                                entries.size() *
                                    sizeof(watch_notification_type_filter));
    watch_notification_filter head{};
    head.nr_filters = static_cast<uint32_t>(entries.size());
    std::memcpy(buffer.data(), &head, sizeof(head));
    if (!entries.empty()) {
      std::memcpy(buffer.data() + sizeof(head), entries.data(),
                  entries.size() * sizeof(watch_notification_type_filter));
    }
    int rc = queue->SetFilter(
        reinterpret_cast<const watch_notification_filter*>(buffer.data()));
    if (rc != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("IOC_WATCH_QUEUE_SET_FILTER (", entries.size(),
                       " entries): ", DescribeErrno(rc)));
    }
  }
  device_->AdoptQueue(file_, std::move(queue));
  return std::move(pipe);
}

}  // namespace xehil::sim
