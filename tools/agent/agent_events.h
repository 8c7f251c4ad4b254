// The agent's view of a watch event: a scenario's listener delivered it
// (Progress::Kind::kEvent); WatchEvents streams it as a lab::AgentEvent.
//
//   options.on_progress = [&](const Progress& p) {
//     if (p.kind == Progress::Kind::kEvent) hub.Publish(ToAgentEvent(p, name));
//   };
#ifndef XEHIL_TOOLS_AGENT_AGENT_EVENTS_H_
#define XEHIL_TOOLS_AGENT_AGENT_EVENTS_H_

#include <string>

#include "core/scenario/run_options.h"
#include "core/watch/events.h"
#include "proto/lab.pb.h"

namespace xehil::agent {

// The typed fields come from progress.event (the text alone if it is unset).
lab::AgentEvent ToAgentEvent(const Progress& progress,
                             const std::string& scenario);

// The same for an event seen directly.
lab::AgentEvent ToAgentEvent(const WatchEvent& event, const std::string& file,
                             const std::string& scenario);

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_AGENT_EVENTS_H_
