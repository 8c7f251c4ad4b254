// AgentService: the xehil.lab.Agent gRPC service (proto/lab.proto) over an
// AgentBackend, a LeaseTable, an EventHub and an Authorizer. The same object
// serves in-process (tests) and in the xehil-agent binary (main.cc):
//
//   XEHIL_ASSIGN_OR_RETURN(auto backend,
//   AgentBackend::Create(backend_options)); AgentService
//   service(std::move(backend), Authorizer::AllowAll(), options);
//   XEHIL_ASSIGN_OR_RETURN(RunningServer server,
//                          StartAgentServer(service, server_options));
//   ... until SIGTERM ...
//   service.BeginShutdown();     // releases every lease, ends the streams
//   server.server->Shutdown();   // waits for the calls in flight
//   service.WaitStreamsDone();
//
// Unary calls and RunScenario use gRPC's synchronous API (they do blocking
// work: locking memory, running a scenario). HoldLeases and WatchEvents use
// the callback API (stream_reactor.h), so a client that goes away is noticed
// at once without a thread parked per stream; a HoldLeases stream that ends
// releases every lease bound to it.
//
// Scenarios run on the agent's device one at a time (RESOURCE_EXHAUSTED while
// another runs); their pressure steps take leases from the same table, so
// the caps apply and GetInfo lists them. With isolated_device (sim only) a
// run gets a fresh device of its own and may overlap others. A run cannot be
// cancelled: it ends by its own timeout even if the client goes away.
#ifndef XEHIL_TOOLS_AGENT_AGENT_SERVICE_H_
#define XEHIL_TOOLS_AGENT_AGENT_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "proto/lab.grpc.pb.h"
#include "tools/agent/agent_backend.h"
#include "tools/agent/auth.h"
#include "tools/agent/event_hub.h"
#include "tools/agent/lease_table.h"
#include "tools/agent/stream_reactor.h"

namespace xehil::agent {

inline constexpr char kAgentVersion[] = "0.1.0";

struct AgentServiceOptions {
  LeaseLimits limits;
  // Where the fail_function probe looks.
  std::string debugfs = "/sys/kernel/debug";
  // Structured lease log lines; null: WriteLogLine (stderr).
  LeaseTable::Logger logger;
};

using AgentServiceBase = lab::Agent::WithCallbackMethod_HoldLeases<
    lab::Agent::WithCallbackMethod_WatchEvents<lab::Agent::Service>>;

class AgentService final : public AgentServiceBase {
 public:
  AgentService(std::unique_ptr<AgentBackend> backend, Authorizer auth,
               AgentServiceOptions options);
  // BeginShutdown(); the server must be shut down already.
  ~AgentService() override;
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // Releases every lease (logged as "shutdown"), ends the HoldLeases and
  // WatchEvents streams and refuses new work (UNAVAILABLE). Idempotent.
  void BeginShutdown();
  // Waits until gRPC is done with every stream (after Server::Shutdown).
  void WaitStreamsDone();

  AgentBackend& backend() { return *backend_; }
  LeaseTable& leases() { return leases_; }
  EventHub& events() { return events_; }
  LiveStreams& streams() { return streams_; }

  grpc::Status GetInfo(grpc::ServerContext* context,
                       const lab::GetInfoRequest* request,
                       lab::AgentInfo* response) override;
  grpc::Status AcquirePressure(grpc::ServerContext* context,
                               const lab::AcquirePressureRequest* request,
                               lab::Lease* response) override;
  grpc::Status RenewLease(grpc::ServerContext* context,
                          const lab::RenewLeaseRequest* request,
                          lab::Lease* response) override;
  grpc::Status ReleasePressure(grpc::ServerContext* context,
                               const lab::ReleasePressureRequest* request,
                               lab::Lease* response) override;
  grpc::Status RunScenario(
      grpc::ServerContext* context, const lab::RunScenarioRequest* request,
      grpc::ServerWriter<lab::RunScenarioUpdate>* writer) override;

  grpc::ServerWriteReactor<lab::HoldLeasesUpdate>* HoldLeases(
      grpc::CallbackServerContext* context,
      const lab::HoldLeasesRequest* request) override;
  grpc::ServerWriteReactor<lab::AgentEvent>* WatchEvents(
      grpc::CallbackServerContext* context,
      const lab::WatchEventsRequest* request) override;

 private:
  // Checks and resolves an AcquirePressure request into a LeaseRequest
  // (INVALID_ARGUMENT / FAILED_PRECONDITION).
  absl::StatusOr<LeaseRequest> ToLeaseRequest(
      const lab::AcquirePressureRequest& request, const Caller& caller);
  void FillProviders(lab::AgentInfo* info);

  const std::unique_ptr<AgentBackend> backend_;
  const Authorizer auth_;
  const AgentServiceOptions options_;
  EventHub events_;
  LiveStreams streams_;
  absl::Mutex run_mu_;  // one scenario at a time on the agent's device
  std::atomic<bool> shutting_down_{false};
  LeaseTable leases_;  // last: destroyed first, while the injectors exist
};

// absl::Status -> grpc::Status (the codes are the same numbers).
grpc::Status ToGrpcStatus(const absl::Status& status);

// lab::Lease from the table's view of a lease.
lab::Lease ToLeaseProto(const LeaseInfo& info);

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_AGENT_SERVICE_H_
