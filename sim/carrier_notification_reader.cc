#include "sim/carrier_notification_reader.h"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <utility>

#include "core/base/errno_status.h"
#include "sim/carrier_reader.h"

namespace xehil::sim {
namespace {

class CarrierNotificationReader : public NotificationReader {
 public:
  explicit CarrierNotificationReader(std::unique_ptr<CarrierReader> reader)
      : reader_(std::move(reader)) {}

  ssize_t Read(int read_fd, void* buf, size_t size) override {
    for (;;) {
      const ssize_t n = reader_->Read(read_fd, static_cast<uint8_t*>(buf), size,
                                      /*writers_gone=*/false);
      if (n != -EAGAIN) return n;
      // Empty: EOF once no writer is left, EAGAIN if non-blocking, else
      // sleep until a record (or the last writer's close) arrives.
      pollfd carrier{read_fd, POLLIN, 0};
      if (::poll(&carrier, 1, 0) < 0) return -errno;
      if ((carrier.revents & POLLIN) != 0) continue;
      if ((carrier.revents & POLLHUP) != 0) return 0;
      const int flags = ::fcntl(read_fd, F_GETFL);
      if (flags < 0) return -errno;
      if ((flags & O_NONBLOCK) != 0) return -EAGAIN;
      if (::poll(&carrier, 1, -1) < 0 && errno != EINTR) return -errno;
    }
  }

  int BytesQueued(int read_fd) override {
    return reader_->BytesQueued(read_fd);
  }

 private:
  const std::unique_ptr<CarrierReader> reader_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<NotificationReader>>
MakeCarrierNotificationReader() {
  int error = 0;
  std::unique_ptr<CarrierReader> reader = CarrierReader::Create(&error);
  if (reader == nullptr) {
    return ErrnoToStatus(-error, "scratch pipe for a notification reader");
  }
  return std::make_shared<CarrierNotificationReader>(std::move(reader));
}

}  // namespace xehil::sim
