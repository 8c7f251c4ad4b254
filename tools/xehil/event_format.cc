#include "tools/xehil/event_format.h"

#include <time.h>

#include "absl/strings/str_format.h"
#include "core/base/errno_status.h"

namespace xehil {
namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

std::string Age(uint64_t timestamp_ns, uint64_t now_ns) {
  if (timestamp_ns == 0 || timestamp_ns > now_ns) return "?";
  double us = static_cast<double>(now_ns - timestamp_ns) / 1e3;
  return us < 1000 ? absl::StrFormat("%.1fus", us)
                   : absl::StrFormat("%.2fms", us / 1e3);
}

}  // namespace

std::string FormatEventText(const WatchEvent& event, uint64_t now_ns) {
  return std::visit(
      Overloaded{
          [&](const VmError& e) {
            return absl::StrFormat("VM_ERR  vm=%u error=-%s age=%s watch=%u",
                                   e.vm_id, ErrnoName(e.error),
                                   Age(e.timestamp_ns, now_ns), e.watch_id);
          },
          [](const Removed& e) {
            return absl::StrFormat("REMOVED watch=%u (the DRM file is gone)",
                                   e.watch_id);
          },
          [](const Lost&) {
            return std::string("LOST    records were dropped: ring full");
          },
          [](const Unknown& e) {
            return absl::StrFormat("UNKNOWN type=%u subtype=%u len=%u watch=%u",
                                   e.type, e.subtype, e.length, e.watch_id);
          },
      },
      event);
}

std::string FormatEventJson(const WatchEvent& event) {
  return std::visit(
      Overloaded{
          [](const VmError& e) {
            return absl::StrFormat(
                "{\"event\":\"vm_err\",\"vm_id\":%u,\"error\":%d,"
                "\"errno\":\"%s\",\"timestamp_ns\":%u,\"watch_id\":%u}",
                e.vm_id, e.error, ErrnoName(e.error), e.timestamp_ns,
                e.watch_id);
          },
          [](const Removed& e) {
            return absl::StrFormat("{\"event\":\"removed\",\"watch_id\":%u}",
                                   e.watch_id);
          },
          [](const Lost&) { return std::string("{\"event\":\"lost\"}"); },
          [](const Unknown& e) {
            return absl::StrFormat(
                "{\"event\":\"unknown\",\"type\":%u,\"subtype\":%u,"
                "\"length\":%u,\"watch_id\":%u}",
                e.type, e.subtype, e.length, e.watch_id);
          },
      },
      event);
}

}  // namespace xehil
