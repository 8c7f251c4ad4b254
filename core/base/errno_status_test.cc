#include "core/base/errno_status.h"

#include <cerrno>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

TEST(ErrnoStatus, NamesErrnoWithSignAndText) {
  absl::Status s = ErrnoToStatus(-EALREADY, "VM_RESTART vm 3");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "VM_RESTART vm 3: -EALREADY (Operation already in progress)");
}

TEST(ErrnoStatus, KeepsTheNegativeErrnoWhicheverSignWasGiven) {
  EXPECT_EQ(StatusErrno(ErrnoToStatus(ENOENT, "x")), -ENOENT);
  EXPECT_EQ(StatusErrno(ErrnoToStatus(-ENOENT, "x")), -ENOENT);
  EXPECT_EQ(StatusErrno(absl::InternalError("no errno")), 0);
}

TEST(ErrnoStatus, ZeroIsOk) { EXPECT_TRUE(ErrnoToStatus(0, "x").ok()); }

TEST(ErrnoStatus, MapsErrnosToSpecificCodes) {
  EXPECT_EQ(ErrnoToCode(-ENOENT), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrnoToCode(-EINVAL), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrnoToCode(-EAGAIN), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrnoToCode(-ENOMEM), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(-ENOSPC), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrnoToCode(-ENOPKG), absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ErrnoToCode(-EBUSY), absl::StatusCode::kFailedPrecondition);
}

TEST(ErrnoStatus, NamesUnknownErrnoByNumber) {
  EXPECT_EQ(ErrnoName(-4000), "E4000");
}

absl::StatusOr<int> Twice(absl::StatusOr<int> v) {
  XEHIL_ASSIGN_OR_RETURN(int x, v);
  XEHIL_RETURN_IF_ERROR(x < 0 ? absl::InvalidArgumentError("neg")
                              : absl::OkStatus());
  return 2 * x;
}

TEST(ErrnoStatus, PropagationMacrosReturnErrorsAndPassValues) {
  EXPECT_EQ(*Twice(4), 8);
  EXPECT_EQ(Twice(absl::NotFoundError("gone")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Twice(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace xehil
