#include "core/base/errno_status.h"

#include <string.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace xehil {
namespace {

constexpr absl::string_view kErrnoPayload = "xehil.dev/errno";

}  // namespace

std::string ErrnoName(int err) {
  err = std::abs(err);
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : absl::StrCat("E", err);
}

std::string DescribeErrno(int err) {
  err = std::abs(err);
  return absl::StrCat(
      "-", ErrnoName(err), " (",
      strerrordesc_np(err) != nullptr ? strerrordesc_np(err) : "unknown error",
      ")");
}

absl::StatusCode ErrnoToCode(int err) {
  switch (std::abs(err)) {
    case 0:
      return absl::StatusCode::kOk;
    case ENOENT:
    case ESRCH:
    case ENXIO:
    case ENODEV:
      return absl::StatusCode::kNotFound;
    case EINVAL:
    case E2BIG:
    case EFAULT:
    case ERANGE:
    case EOVERFLOW:
      return absl::StatusCode::kInvalidArgument;
    case EALREADY:
    case EBUSY:
    case EEXIST:
    case ENOTEMPTY:
    case EISCONN:
      return absl::StatusCode::kFailedPrecondition;
    case EAGAIN:
    case EINTR:
      return absl::StatusCode::kUnavailable;
    case ENOMEM:
    case ENOSPC:
    case ENOBUFS:
    case EMFILE:
    case ENFILE:
      return absl::StatusCode::kResourceExhausted;
    case EPERM:
    case EACCES:
      return absl::StatusCode::kPermissionDenied;
    case ENOTTY:
    case ENOSYS:
    case EOPNOTSUPP:
    case ENOPKG:
      return absl::StatusCode::kUnimplemented;
    case ECANCELED:
      return absl::StatusCode::kAborted;
    case ETIMEDOUT:
    case ETIME:
      return absl::StatusCode::kDeadlineExceeded;
    default:
      return absl::StatusCode::kInternal;
  }
}

absl::Status ErrnoToStatus(int err, absl::string_view context) {
  if (err == 0) return absl::OkStatus();
  absl::Status status(ErrnoToCode(err),
                      absl::StrCat(context, ": ", DescribeErrno(err)));
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(-std::abs(err))));
  return status;
}

int StatusErrno(const absl::Status& status) {
  auto payload = status.GetPayload(kErrnoPayload);
  int err = 0;
  if (!payload.has_value() || !absl::SimpleAtoi(std::string(*payload), &err)) {
    return 0;
  }
  return err;
}

}  // namespace xehil
