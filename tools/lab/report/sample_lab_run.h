// Synthetic lab runs for the report writers' tests and the sample page:
// deterministic (no clock, no randomness beyond a fixed-seed generator),
// shaped like what the controller fills in.
//
//   LabRun run = SampleLabRun();              // 3 hosts, the sample page
//   LabRun big = ManyHostsRun(64, /*reports_per_host=*/1);
#ifndef XEHIL_TOOLS_LAB_REPORT_SAMPLE_LAB_RUN_H_
#define XEHIL_TOOLS_LAB_REPORT_SAMPLE_LAB_RUN_H_

#include <cstdint>
#include <string>

#include "proto/lab_controller.pb.h"

namespace xehil::lab {

// A report whose timeline has `vm_errors` VM_ERR events, each followed by a
// restart (every `fail_every`-th one failing with -ENOMEM; 0: none fail),
// `losses` LOST events, steps and notes; counts and latency match.
Report SyntheticReport(const std::string& scenario, Result result,
                       int vm_errors, int losses, int fail_every,
                       uint64_t seed);

// Three hosts: one passing with events and restarts, one failing (failed
// restarts, losses, markup in names and messages) with a skipped report, and
// one unreachable host.
LabRun SampleLabRun();

// `hosts` hosts "host-000"... with `reports_per_host` small reports each.
LabRun ManyHostsRun(int hosts, int reports_per_host);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_SAMPLE_LAB_RUN_H_
