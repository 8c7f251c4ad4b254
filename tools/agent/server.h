// The agent's gRPC server: where it listens and how callers are
// authenticated on the wire.
//
// Rules: a loopback address (127.0.0.0/8, ::1, localhost) may be served in
// plain text; any other address needs TLS (--tls-cert/--tls-key) and a way
// to authenticate callers — verified client certificates (--tls-client-ca)
// and/or bearer tokens. Port 0 lets the kernel choose; the chosen port is in
// RunningServer.
//
//   ServerOptions options;
//   options.listen = "127.0.0.1:0";
//   XEHIL_ASSIGN_OR_RETURN(RunningServer server,
//                          StartAgentServer(service, options));
//   std::printf("listening on %s\n", server.address.c_str());
//
// Keepalive pings every 10 s (answered within 5 s) end the streams of a
// controller whose machine vanished without closing its connections, so its
// stream-bound leases are released even then.
#ifndef XEHIL_TOOLS_AGENT_SERVER_H_
#define XEHIL_TOOLS_AGENT_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/agent/agent_service.h"

namespace xehil::agent {

struct ServerOptions {
  std::string listen = "127.0.0.1:50051";
  std::string tls_cert_file;  // PEM server certificate (chain)
  std::string tls_key_file;   // PEM private key
  std::string
      tls_client_ca_file;   // PEM CA(s) client certificates must chain to
  bool token_auth = false;  // the service checks bearer tokens
};

struct ListenAddress {
  std::string host;  // without brackets
  int port = 0;
};

// "host:port" or "[v6]:port". INVALID_ARGUMENT otherwise.
absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text);

// 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(absl::string_view host);

// INVALID_ARGUMENT (naming the flags) when the options break the rules above.
absl::Status CheckTransportPolicy(const ServerOptions& options);

// Plain text, TLS, or TLS requiring a client certificate verified against
// the client CA. NOT_FOUND for an unreadable file; INVALID_ARGUMENT "bad
// certificate FILE: why" / "bad key FILE: why" / "bad certificate/key ..."
// for contents that are not PEM or a key that does not match.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerOptions& options);

struct RunningServer {
  std::unique_ptr<grpc::Server> server;
  std::string address;  // host:port with the port actually bound
  int port = 0;
};

// Checks the policy, binds and starts serving `service` (which must outlive
// the server). UNAVAILABLE when the address cannot be bound.
absl::StatusOr<RunningServer> StartAgentServer(AgentService& service,
                                               const ServerOptions& options);

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_SERVER_H_
