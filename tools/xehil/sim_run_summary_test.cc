#include "tools/xehil/sim_run_summary.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

sim::DeviceStatus Parse(const std::string& text) {
  sim::DeviceStatus status;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &status));
  return status;
}

std::string Summary(const sim::DeviceStatus& before,
                    const sim::DeviceStatus& after, uint32_t program = 100) {
  std::ostringstream out;
  PrintSimRunSummary(before, after, program, out);
  return out.str();
}

TEST(SimRunSummary, PrintsOnlyWhatChangedSinceTheFirstSnapshot) {
  const sim::DeviceStatus before = Parse(R"pb(
    description: "simulated tiny"
    counters {
      ioctls { name: "VM_CREATE" result: 0 count: 5 }
      ioctls { name: "VM_RESTART" result: -114 errno_name: "EALREADY" count: 1 }
      records_posted: 3
      restarts: 2
      restarts_succeeded: 2
    }
    daemon { files_opened: 2 files_released: 2 }
    rules { name: "rule 'r'" fired: 1 }
    # An earlier process had pid 100 too.
    processes {
      pid: 100
      ppid: 1
      files_opened: 2
      files_released: 2
      ioctls { name: "VM_CREATE" result: 0 count: 5 }
    }
  )pb");
  const sim::DeviceStatus after = Parse(R"pb(
    description: "simulated tiny"
    counters {
      ioctls { name: "VM_CREATE" result: 0 count: 6 }
      ioctls { name: "VM_CREATE" result: -22 errno_name: "EINVAL" count: 2 }
      ioctls { name: "VM_RESTART" result: -114 errno_name: "EALREADY" count: 1 }
      ioctls { name: "VM_RESTART" result: 0 count: 1 }
      records_posted: 4
      records_dropped: 1
      removals_posted: 1
      rebinds: 2
      rebind_failures: 1
      vms_paused: 1
      restarts: 3
      restarts_succeeded: 3
      restart_latency_samples: 1
      last_restart_latency_ns: 25000
    }
    daemon { files_opened: 5 files_released: 5 }
    rules { name: "rule 'r'" fired: 2 errors: 1 last_error: "VM 1 is paused" }
    processes {
      pid: 100
      ppid: 1
      files_opened: 2
      files_released: 2
      ioctls { name: "VM_CREATE" result: 0 count: 5 }
      ioctls { name: "VM_CREATE" result: -22 errno_name: "EINVAL" count: 2 }
    }
    # What the program forked.
    processes {
      pid: 101
      ppid: 100
      files_opened: 1
      files_released: 1
      ioctls { name: "VM_CREATE" result: 0 count: 1 }
      ioctls { name: "VM_RESTART" result: 0 count: 1 }
    }
    # Another client of the shared daemon.
    processes {
      pid: 200
      ppid: 1
      files_opened: 2
      files_released: 2
      ioctls { name: "VM_CREATE" result: 0 count: 9 }
    }
  )pb");
  const std::string text = Summary(before, after);
  EXPECT_THAT(text, HasSubstr("simulated device: simulated tiny\n"));
  EXPECT_THAT(text, HasSubstr("files:     1 opened, 1 released\n"));
  EXPECT_THAT(text, HasSubstr("device:    every client in the meantime: 3 "
                              "files opened, 3 released, 4 ioctls\n"));
  EXPECT_THAT(text, HasSubstr("VM_CREATE          1 ok, 2 EINVAL"));
  EXPECT_THAT(text, HasSubstr("VM_RESTART         1 ok\n"));
  EXPECT_THAT(text, Not(HasSubstr("EALREADY")));
  EXPECT_THAT(text, HasSubstr("records:   1 posted, 0 refused, 1 dropped by "
                              "script, 0 unwatched; 1 removal\n"));
  EXPECT_THAT(text, HasSubstr("rebinds:   2 run, 1 failed"));
  EXPECT_THAT(text, HasSubstr("VMs:       1 paused, 0 banned"));
  EXPECT_THAT(text, HasSubstr("restarts:  1 (1 succeeded, 0 failed again, 0 "
                              "-EAGAIN); last event-to-restart latency 25 us"));
  EXPECT_THAT(text, HasSubstr("rule 'r' fired 1 time (1 action failed: VM 1 "
                              "is paused)"));
}

TEST(SimRunSummary, NoIoctlsGetsAHint) {
  sim::DeviceStatus empty;
  const std::string text = Summary(empty, empty);
  EXPECT_THAT(text, HasSubstr("ioctls:    none (did the program open"));
  EXPECT_THAT(text, Not(HasSubstr("rules:")));
  EXPECT_THAT(text, Not(HasSubstr("latency")));
}

TEST(SimRunSummary, FilesStillOpenAreMentioned) {
  sim::DeviceStatus after;
  after.add_files()->set_file_id(4);
  EXPECT_THAT(Summary(sim::DeviceStatus(), after),
              HasSubstr("; 1 files still open\n"));
}

TEST(SimRunSummary, OtherClientsOfASharedDaemonAreNotTheProgramsShare) {
  const sim::DeviceStatus after = Parse(R"pb(
    daemon { files_opened: 1 files_released: 2 }
    processes { pid: 100 ppid: 1 files_opened: 1 files_released: 1 }
    processes { pid: 300 ppid: 1 files_released: 1 }
  )pb");
  const std::string text = Summary(sim::DeviceStatus(), after);
  EXPECT_THAT(text, HasSubstr("files:     1 opened, 1 released\n"));
  EXPECT_THAT(text, HasSubstr("1 files opened, 2 released"));
  EXPECT_THAT(Summary(sim::DeviceStatus(), after, /*program=*/0),
              HasSubstr("files:     0 opened, 0 released\n"));
}

}  // namespace
}  // namespace xehil
