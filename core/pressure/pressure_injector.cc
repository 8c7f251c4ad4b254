#include "core/pressure/pressure_injector.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xehil {

absl::Status ValidatePressureSpec(const PressureSpec& spec) {
  if (spec.bytes == 0) {
    return absl::InvalidArgumentError("pressure of 0 bytes");
  }
  if (spec.ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("negative pressure TTL ", absl::FormatDuration(spec.ttl)));
  }
  return absl::OkStatus();
}

std::string DescribeBytes(uint64_t bytes) {
  return absl::StrFormat("%u bytes (%.1f MiB)", bytes,
                         static_cast<double>(bytes) / (1 << 20));
}

}  // namespace xehil
