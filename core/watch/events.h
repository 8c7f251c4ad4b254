// Typed watch events, decoded from notification-pipe records.
#ifndef XEHIL_CORE_WATCH_EVENTS_H_
#define XEHIL_CORE_WATCH_EVENTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

namespace xehil {

// A VM_ERR record: the VM's preempt-rebind worker failed.
struct VmError {
  uint32_t vm_id = 0;
  int32_t error = 0;          // negative errno, e.g. -ENOMEM
  uint64_t timestamp_ns = 0;  // CLOCK_MONOTONIC when the driver saw it
  uint8_t watch_id = 0;
};

// A removal record: the watched object (the DRM file) went away.
struct Removed {
  uint8_t watch_id = 0;
  std::optional<uint64_t> id;  // present in the 16-byte form
};

// A loss record: one or more records were dropped because the ring was full.
struct Lost {};

// A well-formed record of a type or subtype xehil does not know.
struct Unknown {
  uint32_t type = 0;
  uint32_t subtype = 0;
  uint8_t watch_id = 0;
  uint32_t length = 0;
};

using WatchEvent = std::variant<VmError, Removed, Lost, Unknown>;

// "VM_ERR vm=3 error=-ENOMEM ts=123 watch=1", "LOST", ...
std::string DescribeEvent(const WatchEvent& event);

}  // namespace xehil

#endif  // XEHIL_CORE_WATCH_EVENTS_H_
