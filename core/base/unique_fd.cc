#include "core/base/unique_fd.h"

#include <unistd.h>

namespace xehil {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) {
    // close() releases the descriptor even when it reports EINTR on Linux, so
    // retrying would risk closing a descriptor another thread just opened.
    ::close(fd_);
  }
  fd_ = fd;
}

}  // namespace xehil
