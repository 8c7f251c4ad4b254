#include "tools/lab/connection.h"

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "tools/lab/files.h"

namespace xehil::lab {

absl::StatusOr<std::unique_ptr<HostConnection>> HostConnection::Create(
    const Host& host, const Credentials& credentials) {
  std::unique_ptr<HostConnection> conn(new HostConnection());
  conn->host_ = host;
  if (!credentials.token_file().empty()) {
    XEHIL_ASSIGN_OR_RETURN(std::string token,
                           ReadTokenFile(credentials.token_file()));
    conn->authorization_ = absl::StrCat("Bearer ", token);
  }
  grpc::ChannelArguments args;
  // Controller-side retries are ours (fanout.h), counted and reported.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  // A host that comes back is tried again soon, not after gRPC's 1 s..2 min
  // reconnect backoff. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC also
  // takes it as the connect timeout, too short for a loaded machine; the
  // per-call deadline bounds connecting instead.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Each host its own connection, even for equal addresses.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  std::shared_ptr<grpc::ChannelCredentials> transport;
  if (credentials.tls_ca().empty()) {
    transport = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    XEHIL_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                           ReadFileToString(credentials.tls_ca(), "TLS CA"));
    if (!credentials.tls_cert().empty()) {
      XEHIL_ASSIGN_OR_RETURN(
          ssl.pem_cert_chain,
          ReadFileToString(credentials.tls_cert(), "TLS certificate"));
      XEHIL_ASSIGN_OR_RETURN(
          ssl.pem_private_key,
          ReadFileToString(credentials.tls_key(), "TLS key"));
    }
    if (!credentials.tls_server_name().empty()) {
      args.SetSslTargetNameOverride(credentials.tls_server_name());
    }
    transport = grpc::SslCredentials(ssl);
  }
  conn->channel_ = grpc::CreateCustomChannel(host.address(), transport, args);
  conn->stub_ = Agent::NewStub(conn->channel_);
  return conn;
}

void HostConnection::Prepare(grpc::ClientContext* context,
                             absl::Duration deadline) const {
  if (deadline != absl::InfiniteDuration()) {
    context->set_deadline(std::chrono::system_clock::now() +
                          absl::ToChronoNanoseconds(deadline));
  }
  if (!authorization_.empty()) {
    context->AddMetadata("authorization", authorization_);
  }
}

std::unique_ptr<grpc::ClientContext> HostConnection::NewContext(
    absl::Duration deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  Prepare(context.get(), deadline);
  return context;
}

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string CodeName(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);
  for (char& c : name) c = absl::ascii_toupper(static_cast<unsigned char>(c));
  for (char& c : name) {
    if (c == ' ') c = '_';
  }
  return name;
}

}  // namespace xehil::lab
