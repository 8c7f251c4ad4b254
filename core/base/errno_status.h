// Errors as values: negative errnos from ioctls become absl::Status with the
// most specific canonical code, the errno's name and sign in the message, and
// the errno itself kept as a payload so callers can branch on it exactly.
//
//   int rc = backend.Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg);
//   if (rc < 0) return ErrnoToStatus(rc, "VM_RESTART vm 3");
//   // -> FAILED_PRECONDITION: "VM_RESTART vm 3: -EALREADY (Operation ...)"
//   if (StatusErrno(status) == -EALREADY) ...
#ifndef XEHIL_CORE_BASE_ERRNO_STATUS_H_
#define XEHIL_CORE_BASE_ERRNO_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace xehil {

// "ENOMEM", "EAGAIN", ...; "E<n>" for a number without a name. Sign ignored.
std::string ErrnoName(int err);

// "-ENOMEM (Cannot allocate memory)" for -12 or 12.
std::string DescribeErrno(int err);

// The canonical code for an errno (sign ignored): ENOENT -> NOT_FOUND,
// EINVAL -> INVALID_ARGUMENT, EALREADY/EBUSY -> FAILED_PRECONDITION,
// EAGAIN -> UNAVAILABLE, ENOMEM/ENOSPC -> RESOURCE_EXHAUSTED, ...
absl::StatusCode ErrnoToCode(int err);

// A status for `err` (either sign) with "<context>: -EXXX (text)" as message
// and the negative errno attached. err == 0 gives OkStatus().
absl::Status ErrnoToStatus(int err, absl::string_view context);

// The negative errno carried by a status made by ErrnoToStatus, else 0.
int StatusErrno(const absl::Status& status);

}  // namespace xehil

// Propagation helpers (Debian's Abseil predates absl's own macros). `lhs` is
// a declaration, so it cannot be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define XEHIL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status xehil_status_ = (expr);         \
    if (!xehil_status_.ok()) return xehil_status_; \
  } while (0)

#define XEHIL_CONCAT_INNER_(a, b) a##b
#define XEHIL_CONCAT_(a, b) XEHIL_CONCAT_INNER_(a, b)
#define XEHIL_ASSIGN_OR_RETURN(lhs, expr)                                     \
  XEHIL_ASSIGN_OR_RETURN_IMPL_(XEHIL_CONCAT_(xehil_statusor_, __LINE__), lhs, \
                               expr)
#define XEHIL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)

#endif  // XEHIL_CORE_BASE_ERRNO_STATUS_H_
