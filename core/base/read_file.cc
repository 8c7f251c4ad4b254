#include "core/base/read_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "core/base/unique_fd.h"

namespace xehil {

absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what,
                                             size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoToStatus(-errno, absl::StrCat("cannot open ", what, " ", path));
  }
  std::string text;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(-errno,
                           absl::StrCat("cannot read ", what, " ", path));
    }
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " ", path, ": larger than ", max_bytes, " bytes"));
    }
  }
  return text;
}

}  // namespace xehil
