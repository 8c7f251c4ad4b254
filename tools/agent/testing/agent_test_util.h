// Test helpers for the lab agent: an agent served in-process on a port the
// kernel picks, clients with or without tokens, and a log capture that tests
// wait on (no sleeps).
//
//   InProcessAgent agent;                       // sim backend, no auth
//   ASSERT_TRUE(agent.Start().ok());
//   lab::AgentInfo info;
//   grpc::ClientContext context;
//   ASSERT_TRUE(agent.stub().GetInfo(&context, {}, &info).ok());
//   ASSERT_TRUE(agent.log().WaitFor({"\"reason\":\"ttl\""}, absl::Seconds(2)));
#ifndef XEHIL_TOOLS_AGENT_TESTING_AGENT_TEST_UTIL_H_
#define XEHIL_TOOLS_AGENT_TESTING_AGENT_TEST_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/lab.grpc.pb.h"
#include "tools/agent/agent_backend.h"
#include "tools/agent/agent_service.h"
#include "tools/agent/auth.h"
#include "tools/agent/server.h"

namespace xehil::agent::testing {

// Only reached when the code under test is broken.
inline constexpr absl::Duration kLongWait = absl::Seconds(20);

// Collects log lines; WaitFor wakes on every new line.
class LogCapture {
 public:
  LeaseTable::Logger logger();
  void Add(const std::string& line);
  // True once a line containing every one of `parts` was logged.
  bool WaitFor(const std::vector<std::string>& parts,
               absl::Duration timeout = kLongWait);
  std::vector<std::string> lines() const;
  std::string text() const;

 private:
  bool HasLocked(const std::vector<std::string>& parts) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

struct InProcessOptions {
  BackendOptions backend;
  AgentServiceOptions service;
  std::optional<std::string> token_text;  // "TOKEN ROLE" lines
};

// A sim backend with a small floor for sysmem, generous caps, on 127.0.0.1:0.
InProcessOptions DefaultInProcessOptions();

class InProcessAgent {
 public:
  explicit InProcessAgent(InProcessOptions options = DefaultInProcessOptions());
  // Shuts the server and service down the way main.cc does.
  ~InProcessAgent();

  absl::Status Start();
  lab::Agent::Stub& stub() { return *stub_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  AgentService& service() { return *service_; }
  LogCapture& log() { return log_; }
  const std::string& address() const { return address_; }
  // main.cc's shutdown sequence.
  void Stop();

 private:
  InProcessOptions options_;
  LogCapture log_;
  std::unique_ptr<AgentService> service_;
  RunningServer server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<lab::Agent::Stub> stub_;
  bool stopped_ = false;
};

// A client context with a deadline and, if given, a bearer token.
std::unique_ptr<grpc::ClientContext> Context(
    const std::string& token = "", absl::Duration deadline = kLongWait);

// A plain-text channel that is connected (or failed) before it returns.
std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address);

// Region `instance`'s used bytes as GetInfo reports them (nullopt: failed).
std::optional<uint64_t> UsedBytes(lab::Agent::Stub& stub, uint32_t instance,
                                  const std::string& token = "");

// An AcquirePressureRequest for `bytes` of sim pressure on `region`.
lab::AcquirePressureRequest SimRequest(uint32_t region, int64_t bytes,
                                       int64_t ttl_ms = 60000);

}  // namespace xehil::agent::testing

#endif  // XEHIL_TOOLS_AGENT_TESTING_AGENT_TEST_UTIL_H_
