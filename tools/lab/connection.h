// A connection to one host's xehil-agent: the channel built from the host's
// credentials and the per-call context every RPC goes through (deadline and
// "authorization: Bearer <token>" metadata, see tools/agent/auth.h).
//
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<HostConnection> conn,
//                          HostConnection::Create(host, credentials));
//   lab::AgentInfo info;
//   std::unique_ptr<grpc::ClientContext> context =
//       conn->NewContext(absl::Seconds(5));
//   absl::Status status = FromGrpc(conn->stub().GetInfo(context.get(), {},
//                                                       &info));
//
// Transport: plain text when the credentials have no tls_ca (the agent only
// allows that on loopback); TLS verified against tls_ca otherwise, with a
// client certificate when tls_cert/tls_key are set and the expected server
// name overridden by tls_server_name. Creating a connection does not
// connect: a host that is down shows up as UNAVAILABLE on its first call.
// Thread-safe: calls may run on any number of threads at once.
#ifndef XEHIL_TOOLS_LAB_CONNECTION_H_
#define XEHIL_TOOLS_LAB_CONNECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/lab.grpc.pb.h"
#include "proto/lab_controller.pb.h"

namespace xehil::lab {

class HostConnection {
 public:
  // Reads the token and TLS files (paths as LoadInventory resolved them).
  // NOT_FOUND / PERMISSION_DENIED for an unreadable file, INVALID_ARGUMENT
  // for an empty token.
  static absl::StatusOr<std::unique_ptr<HostConnection>> Create(
      const Host& host, const Credentials& credentials);

  const Host& host() const { return host_; }
  const std::string& name() const { return host_.name(); }
  const std::string& address() const { return host_.address(); }
  Agent::Stub& stub() { return *stub_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // A context for one call: the deadline (none when infinite) and the
  // bearer token when the credentials have one.
  std::unique_ptr<grpc::ClientContext> NewContext(
      absl::Duration deadline) const;
  // The same on an existing context (for contexts owned elsewhere).
  void Prepare(grpc::ClientContext* context, absl::Duration deadline) const;

 private:
  HostConnection() = default;

  Host host_;
  std::string authorization_;  // "Bearer <token>", or ""
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Agent::Stub> stub_;
};

// grpc::Status -> absl::Status (same code numbers, same message).
absl::Status FromGrpc(const grpc::Status& status);

// "UNAVAILABLE", "DEADLINE_EXCEEDED", ... for a status code.
std::string CodeName(absl::StatusCode code);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_CONNECTION_H_
