// Renders watch events for people (text) and for programs (one JSON object
// per line).
#ifndef XEHIL_TOOLS_XEHIL_EVENT_FORMAT_H_
#define XEHIL_TOOLS_XEHIL_EVENT_FORMAT_H_

#include <string>

#include "core/base/monotonic_clock.h"
#include "core/watch/events.h"

namespace xehil {

// "VM_ERR vm=3 error=-ENOMEM age=12.5us watch=1"; `now_ns` is
// CLOCK_MONOTONIC, for the record's age.
std::string FormatEventText(const WatchEvent& event, uint64_t now_ns);

// {"event":"vm_err","vm_id":3,"error":-12,"errno":"ENOMEM",...}
std::string FormatEventJson(const WatchEvent& event);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_EVENT_FORMAT_H_
