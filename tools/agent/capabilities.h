// Probes of the host the agent runs on: kernel release, watch-queue support
// (CONFIG_WATCH_QUEUE) and the fail_function fault-injection interface, each
// with a detail line that says what was found or what is missing; plus the
// host's name and MemTotal. Cheap enough to run on every GetInfo.
//
//   lab::KernelCapabilities caps = ProbeKernel();
//   if (!caps.fail_function().available()) puts(caps.fail_function().detail());
#ifndef XEHIL_TOOLS_AGENT_CAPABILITIES_H_
#define XEHIL_TOOLS_AGENT_CAPABILITIES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/lab.pb.h"

namespace xehil::agent {

// `debugfs` is where fail_function is looked for (tests pass a fake tree).
lab::KernelCapabilities ProbeKernel(
    absl::string_view debugfs = "/sys/kernel/debug");

// The fail_function probe alone.
lab::Capability ProbeFailFunction(absl::string_view debugfs);

std::string HostName();

// MemTotal from a /proc/meminfo-format file, in bytes. FAILED_PRECONDITION
// when unreadable or missing.
absl::StatusOr<uint64_t> ReadMemTotal(
    absl::string_view meminfo_path = "/proc/meminfo");

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_CAPABILITIES_H_
