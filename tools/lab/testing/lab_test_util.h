// Test helpers for xehil-lab: real xehil-agent processes on ports the kernel
// picks, addresses where nothing listens, inventories under TEST_TMPDIR and
// the xehil-lab binary run as a child process (data deps
// //tools/agent:xehil-agent and //tools/lab:xehil-lab).
//
//   absl::StatusOr<AgentProcess> a = StartAgentProcess({"--max-leases=4"});
//   DeadPort dead;
//   std::string inventory = WriteInventory("lab", {{"a", a->address, {"sim"}},
//                                                   {"gone", dead.address()}});
//   CommandResult r = RunLab({"status", "--inventory=" + inventory});
#ifndef XEHIL_TOOLS_LAB_TESTING_LAB_TEST_UTIL_H_
#define XEHIL_TOOLS_LAB_TESTING_LAB_TEST_UTIL_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/lab.grpc.pb.h"
#include "common/testing/child_process.h"

namespace xehil::lab::testing {

using process_testing::ChildProcess;
using process_testing::CommandResult;

inline constexpr char kAgentBinary[] = "tools/agent/xehil-agent";
inline constexpr char kLabBinary[] = "tools/lab/xehil-lab";
inline constexpr absl::Duration kLongWait = absl::Seconds(30);

struct AgentProcess {
  std::unique_ptr<ChildProcess> process;
  std::string address;  // 127.0.0.1:PORT
  std::unique_ptr<Agent::Stub> stub;
};

// xehil-agent --listen=127.0.0.1:0 `args`, once it printed its address.
absl::StatusOr<AgentProcess> StartAgentProcess(
    const std::vector<std::string>& args = {});

// A loopback port bound (so nobody else gets it) but not listening:
// connections to it are refused for as long as this object lives.
class DeadPort {
 public:
  DeadPort();
  ~DeadPort();
  DeadPort(const DeadPort&) = delete;
  DeadPort& operator=(const DeadPort&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

struct TestHost {
  std::string name;
  std::string address;
  std::vector<std::string> labels;
};

// Writes TEST_TMPDIR/<name>.textproto with `hosts` (and `extra` text
// appended) and returns its path.
std::string WriteInventory(const std::string& name,
                           const std::vector<TestHost>& hosts,
                           const std::string& extra = "");

// Runs xehil-lab with `args` to its end.
CommandResult RunLab(const std::vector<std::string>& args,
                     absl::Duration timeout = kLongWait);

// Starts xehil-lab with `args` and leaves it running.
absl::StatusOr<std::unique_ptr<ChildProcess>> StartLab(
    const std::vector<std::string>& args);

// The lease ids in "NAME | acquired ID: ..." lines, in order.
std::vector<std::string> AcquiredLeaseIds(const std::string& output);

// Region `instance`'s used bytes as the agent reports them.
std::optional<uint64_t> UsedBytes(Agent::Stub& stub, uint32_t instance);

}  // namespace xehil::lab::testing

#endif  // XEHIL_TOOLS_LAB_TESTING_LAB_TEST_UTIL_H_
