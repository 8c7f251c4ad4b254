#include "tools/agent/server.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
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

// OpenSSL's reason for the last failure ("no start line", ...), and an
// empty error queue afterwards.
std::string OpenSslReason() {
  const unsigned long error = ERR_peek_last_error();
  const char* reason = error == 0 ? nullptr : ERR_reason_error_string(error);
  ERR_clear_error();
  return reason != nullptr ? reason : "not PEM";
}

// An encrypted key would make OpenSSL prompt on the terminal: refuse it.
int NoPassphrase(char*, int, int, void*) { return 0; }

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

Bio ReadOnlyBio(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// gRPC takes any bytes as certificate and key and then only fails to listen,
// which reads like a busy port: check them first and say what is wrong.
absl::Status CheckKeyPair(const std::string& cert, const std::string& cert_file,
                          const std::string& key, const std::string& key_file) {
  ERR_clear_error();
  Bio cert_bio = ReadOnlyBio(cert);
  std::unique_ptr<X509, X509Free> x509(
      cert_bio == nullptr
          ? nullptr
          : PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  if (x509 == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad certificate ", cert_file, ": ", OpenSslReason(),
                     " (want a PEM certificate)"));
  }
  Bio key_bio = ReadOnlyBio(key);
  std::unique_ptr<EVP_PKEY, KeyFree> pkey(
      key_bio == nullptr ? nullptr
                         : PEM_read_bio_PrivateKey(key_bio.get(), nullptr,
                                                   &NoPassphrase, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad key ", key_file, ": ", OpenSslReason(),
                     " (want an unencrypted PEM private key)"));
  }
  if (X509_check_private_key(x509.get(), pkey.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("bad certificate/key ", key_file,
                     ": the key does not match the certificate ", cert_file));
  }
  return absl::OkStatus();
}

absl::Status CheckCertificates(const std::string& pem,
                               const std::string& file) {
  ERR_clear_error();
  Bio bio = ReadOnlyBio(pem);
  std::unique_ptr<X509, X509Free> first(
      bio == nullptr ? nullptr
                     : PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (first == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad certificate ", file, ": ", OpenSslReason(),
                     " (want PEM CA certificates)"));
  }
  return absl::OkStatus();
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
  XEHIL_RETURN_IF_ERROR(
      CheckKeyPair(cert, options.tls_cert_file, key, options.tls_key_file));
  grpc::SslServerCredentialsOptions ssl(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  ssl.pem_key_cert_pairs.push_back({key, cert});
  if (!options.tls_client_ca_file.empty()) {
    XEHIL_ASSIGN_OR_RETURN(
        ssl.pem_root_certs,
        ReadPem(options.tls_client_ca_file, "client CA certificate"));
    XEHIL_RETURN_IF_ERROR(
        CheckCertificates(ssl.pem_root_certs, options.tls_client_ca_file));
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
