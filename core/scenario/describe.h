// Short human-readable descriptions of scenario parts, for progress lines,
// the report's timeline and default expectation names.
//
//   ExpectationName(e)  // e.name(), or "events_seen VM_ERR -ENOMEM count 1"
//   DescribeStep(step)  // "inject_pressure VRAM 100% of total as 'vram'"
#ifndef XEHIL_CORE_SCENARIO_DESCRIBE_H_
#define XEHIL_CORE_SCENARIO_DESCRIBE_H_

#include <string>

#include "proto/scenario.pb.h"

namespace xehil {

// The expectation's `name`, or a description of its check when unset, e.g.
// "events_seen VM_ERR -ENOMEM on 'app' count 1".
std::string ExpectationName(const Expectation& expectation);

// "expectations[i].check" kind: "events_seen", "all_healthy", ...
std::string CheckKind(const Expectation& expectation);

// One line naming the step's action and its arguments.
std::string DescribeStep(const Step& step);

// "1", "1..3", ">= 1", "<= 2" (min 0 and a max), "any" (0 and no max).
std::string DescribeRange(const CountRange& range);
bool InRange(const CountRange& range, uint64_t value);

// "VM_ERR", "LOST", "REMOVED", "UNKNOWN", "any".
std::string EventTypeLabel(EventType type);

// The negative errno of a proto Errno (ERRNO_ENOMEM -> -ENOMEM).
int NegativeErrno(xehil::Errno error);

// "HEALTHY", "PAUSED", ...
std::string VmOutcomeLabel(VmOutcome outcome);

}  // namespace xehil

#endif  // XEHIL_CORE_SCENARIO_DESCRIBE_H_
