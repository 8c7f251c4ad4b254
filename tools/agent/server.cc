#include "tools/agent/server.h"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"

namespace xehil::agent {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read ", what, " ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

absl::StatusOr<ListenAddress> ParseListenAddress(absl::string_view text) {
  ListenAddress out;
  absl::string_view port;
  if (absl::StartsWith(text, "[")) {
    size_t close = text.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad listen address '", text, "' (want [v6]:port)"));
    }
    out.host = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 ||
        text.substr(0, colon).find(':') != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad listen address '", text, "' (want host:port)"));
    }
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (!absl::SimpleAtoi(port, &out.port) || out.port < 0 || out.port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad port in listen address '", text, "'"));
  }
  return out;
}

bool IsLoopbackHost(absl::string_view host) {
  if (host == "localhost") return true;
  std::string h(host);
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

absl::Status CheckTransportPolicy(const ServerOptions& options) {
  XEHIL_ASSIGN_OR_RETURN(ListenAddress address,
                         ParseListenAddress(options.listen));
  const bool tls = !options.tls_cert_file.empty();
  if (tls != !options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!options.tls_client_ca_file.empty() && !tls) {
    return absl::InvalidArgumentError(
        "--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (!IsLoopbackHost(address.host)) {
    if (!tls) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listening on ", address.host,
          " (not loopback) needs TLS: give --tls-cert and --tls-key"));
    }
    if (options.tls_client_ca_file.empty() && !options.token_auth) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listening on ", address.host,
          " (not loopback) needs caller authentication: --tls-client-ca "
          "and/or --token-file"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerOptions& options) {
  if (options.tls_cert_file.empty()) return grpc::InsecureServerCredentials();
  XEHIL_ASSIGN_OR_RETURN(std::string cert,
                         ReadPem(options.tls_cert_file, "TLS certificate"));
  XEHIL_ASSIGN_OR_RETURN(std::string key,
                         ReadPem(options.tls_key_file, "TLS key"));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({key, cert});
  if (!options.tls_client_ca_file.empty()) {
    XEHIL_ASSIGN_OR_RETURN(
        ssl.pem_root_certs,
        ReadPem(options.tls_client_ca_file, "client CA certificate"));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

absl::StatusOr<RunningServer> StartAgentServer(AgentService& service,
                                               const ServerOptions& options) {
  XEHIL_RETURN_IF_ERROR(CheckTransportPolicy(options));
  XEHIL_ASSIGN_OR_RETURN(ListenAddress address,
                         ParseListenAddress(options.listen));
  XEHIL_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                         MakeServerCredentials(options));
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, credentials, &port);
  builder.RegisterService(&service);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // gRPC sets SO_REUSEPORT by default: a second agent on the same port would
  // start and share the calls. An address in use must be an error.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  RunningServer running;
  running.server = builder.BuildAndStart();
  if (running.server == nullptr || port == 0) {
    if (running.server != nullptr) running.server->Shutdown();
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen,
                     " (address in use, or not an address of this host?)"));
  }
  running.port = port;
  running.address = absl::StrCat(address.host.find(':') != std::string::npos
                                     ? absl::StrCat("[", address.host, "]")
                                     : address.host,
                                 ":", port);
  return running;
}

}  // namespace xehil::agent
