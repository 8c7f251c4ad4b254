#include "core/watch/events.h"

#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil {
namespace {

// "-ENOMEM" for a negative errno; records should never carry a positive one,
// but if they do it is shown as is rather than hidden.
std::string ErrorText(int32_t error) {
  if (error == 0) return "0";
  return absl::StrCat(error < 0 ? "-" : "+", ErrnoName(error));
}

}  // namespace

std::string DescribeEvent(const WatchEvent& event) {
  return std::visit(
      [](const auto& e) -> std::string {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, VmError>) {
          return absl::StrCat("VM_ERR vm=", e.vm_id,
                              " error=", ErrorText(e.error),
                              " ts=", e.timestamp_ns, " watch=", e.watch_id);
        } else if constexpr (std::is_same_v<T, Removed>) {
          std::string out = absl::StrCat("REMOVED watch=", e.watch_id);
          if (e.id.has_value()) absl::StrAppend(&out, " id=", *e.id);
          return out;
        } else if constexpr (std::is_same_v<T, Lost>) {
          return "LOST";
        } else {
          static_assert(std::is_same_v<T, Unknown>, "unhandled event kind");
          return absl::StrCat("UNKNOWN type=", e.type, " subtype=", e.subtype,
                              " watch=", e.watch_id, " len=", e.length);
        }
      },
      event);
}

}  // namespace xehil
