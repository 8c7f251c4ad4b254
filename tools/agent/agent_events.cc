#include "tools/agent/agent_events.h"

#include <type_traits>
#include <variant>

#include "absl/time/clock.h"

namespace xehil::agent {

lab::AgentEvent ToAgentEvent(const WatchEvent& event, const std::string& file,
                             const std::string& scenario) {
  lab::AgentEvent out;
  out.set_unix_us(absl::ToUnixMicros(absl::Now()));
  out.set_scenario(scenario);
  out.set_file(file);
  out.set_text(DescribeEvent(event));
  std::visit(
      [&out](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, VmError>) {
          out.set_type(EVENT_TYPE_VM_ERR);
          out.set_vm_id(e.vm_id);
          out.set_error(e.error);
          out.set_timestamp_ns(e.timestamp_ns);
          out.set_watch_id(e.watch_id);
        } else if constexpr (std::is_same_v<T, Removed>) {
          out.set_type(EVENT_TYPE_REMOVED);
          out.set_watch_id(e.watch_id);
        } else if constexpr (std::is_same_v<T, Lost>) {
          out.set_type(EVENT_TYPE_LOST);
        } else {
          out.set_type(EVENT_TYPE_UNKNOWN);
          out.set_watch_id(e.watch_id);
        }
      },
      event);
  return out;
}

lab::AgentEvent ToAgentEvent(const Progress& progress,
                             const std::string& scenario) {
  if (progress.event.has_value()) {
    return ToAgentEvent(*progress.event, progress.file, scenario);
  }
  lab::AgentEvent out;
  out.set_unix_us(absl::ToUnixMicros(absl::Now()));
  out.set_scenario(scenario);
  out.set_file(progress.file);
  out.set_text(progress.text);
  return out;
}

}  // namespace xehil::agent
