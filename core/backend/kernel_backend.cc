#include "core/backend/kernel_backend.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace xehil {

ssize_t ReadNotificationPipe(const NotificationPipe& pipe, void* buf,
                             size_t size) {
  if (pipe.reader != nullptr) {
    return pipe.reader->Read(pipe.read_end.get(), buf, size);
  }
  ssize_t n;
  do {
    n = ::read(pipe.read_end.get(), buf, size);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

int NotificationBytesQueued(const NotificationPipe& pipe) {
  if (pipe.reader != nullptr) {
    return pipe.reader->BytesQueued(pipe.read_end.get());
  }
  int queued = 0;
  if (::ioctl(pipe.read_end.get(), FIONREAD, &queued) != 0) return -errno;
  return queued;
}

}  // namespace xehil
