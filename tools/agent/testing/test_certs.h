// Test PKI made at test time with the openssl CLI (never committed keys):
// a CA with a server certificate for 127.0.0.1/localhost and a client
// certificate, and a second, unrelated CA with its own client certificate.
//
//   absl::StatusOr<TestPki> pki = MakeTestPki(getenv("TEST_TMPDIR"));
//   // pki->ca_pem, pki->server_pem, pki->server_key, pki->client_pem, ...
#ifndef XEHIL_TOOLS_AGENT_TESTING_TEST_CERTS_H_
#define XEHIL_TOOLS_AGENT_TESTING_TEST_CERTS_H_

#include <string>

#include "absl/status/statusor.h"

namespace xehil::agent::testing {

struct TestPki {
  // Paths.
  std::string ca_pem;
  std::string server_pem, server_key;
  std::string client_pem, client_key;              // signed by ca
  std::string other_client_pem, other_client_key;  // signed by another CA
};

// FAILED_PRECONDITION when openssl is missing or fails (with its output).
absl::StatusOr<TestPki> MakeTestPki(const std::string& dir);

// The contents of a file ("" if unreadable).
std::string ReadFileOrEmpty(const std::string& path);

}  // namespace xehil::agent::testing

#endif  // XEHIL_TOOLS_AGENT_TESTING_TEST_CERTS_H_
