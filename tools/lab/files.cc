#include "tools/lab/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "core/base/unique_fd.h"

namespace xehil::lab {

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  XEHIL_ASSIGN_OR_RETURN(std::string text,
                         ReadFileToString(path, "token file"));
  absl::string_view first = text;
  first = absl::StripAsciiWhitespace(first.substr(0, first.find('\n')));
  if (first.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, ": its first line holds no token"));
  }
  return std::string(first);
}

absl::Status WriteStringToFile(const std::string& path,
                               absl::string_view text) {
  UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    return ErrnoToStatus(-errno, absl::StrCat("cannot create ", path));
  }
  while (!text.empty()) {
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(-errno, absl::StrCat("cannot write ", path));
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace xehil::lab
