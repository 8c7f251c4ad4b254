#include "tools/agent/server.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/agent/byte_size.h"
#include "tools/agent/testing/test_certs.h"

namespace xehil::agent {
namespace {

using ::testing::HasSubstr;

TEST(ListenAddress, ParsesHostPortAndBracketedV6) {
  absl::StatusOr<ListenAddress> a = ParseListenAddress("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 0);
  a = ParseListenAddress("[::1]:50051");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 50051);
  for (const char* bad :
       {"127.0.0.1", ":80", "::1:80", "host:99999", "host:http", "[::1]80"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ParseListenAddress(bad).status()))
        << bad;
  }
}

TEST(ListenAddress, KnowsLoopback) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("lab-host-3"));
}

TEST(TransportPolicy, OffLoopbackNeedsTlsAndCallerAuthentication) {
  ServerOptions options;
  options.listen = "127.0.0.1:0";
  EXPECT_TRUE(CheckTransportPolicy(options).ok());
  options.listen = "0.0.0.0:50051";
  absl::Status s = CheckTransportPolicy(options);
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("needs TLS"));
  options.tls_cert_file = "cert.pem";
  options.tls_key_file = "key.pem";
  EXPECT_THAT(CheckTransportPolicy(options).message(),
              HasSubstr("caller authentication"));
  options.token_auth = true;
  EXPECT_TRUE(CheckTransportPolicy(options).ok());
  options.token_auth = false;
  options.tls_client_ca_file = "ca.pem";
  EXPECT_TRUE(CheckTransportPolicy(options).ok());
  options.tls_key_file = "";
  EXPECT_THAT(CheckTransportPolicy(options).message(),
              HasSubstr("go together"));
}

TEST(TransportPolicy, UnreadableCertificateIsNotFound) {
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  EXPECT_TRUE(absl::IsNotFound(MakeServerCredentials(options).status()));
}

TEST(TransportPolicy, BadCertificateOrKeyIsNamedWithItsReason) {
  absl::StatusOr<testing::TestPki> pki =
      testing::MakeTestPki(std::getenv("TEST_TMPDIR"));
  ASSERT_TRUE(pki.ok()) << pki.status();
  const std::string garbage =
      std::string(std::getenv("TEST_TMPDIR")) + "/garbage.pem";
  std::ofstream(garbage) << "not a certificate\n";

  ServerOptions options;
  options.tls_cert_file = garbage;
  options.tls_key_file = pki->server_key;
  absl::Status status = MakeServerCredentials(options).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("bad certificate " + garbage + ": "));

  options.tls_cert_file = pki->server_pem;
  options.tls_key_file = garbage;
  status = MakeServerCredentials(options).status();
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("bad key " + garbage + ": "));

  options.tls_key_file = pki->client_key;  // a key, but not this cert's
  status = MakeServerCredentials(options).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("the key does not match the certificate"));

  options.tls_key_file = pki->server_key;
  options.tls_client_ca_file = garbage;
  status = MakeServerCredentials(options).status();
  EXPECT_THAT(std::string(status.message()),
              ::testing::StartsWith("bad certificate " + garbage + ": "));

  options.tls_client_ca_file = pki->ca_pem;
  EXPECT_TRUE(MakeServerCredentials(options).ok());
}

TEST(ByteSize, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(ParseByteSize("4096"), 4096u);
  EXPECT_EQ(ParseByteSize("512K"), 512u << 10);
  EXPECT_EQ(ParseByteSize("64M"), uint64_t{64} << 20);
  EXPECT_EQ(ParseByteSize("64MiB"), uint64_t{64} << 20);
  EXPECT_EQ(ParseByteSize("2g"), uint64_t{2} << 30);
  EXPECT_EQ(ParseByteSize("1TB"), uint64_t{1} << 40);
  for (const char* bad : {"", "-1", "1.5G", "lots", "3X", "99999999999999T"}) {
    EXPECT_FALSE(ParseByteSize(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatByteSize(uint64_t{2} << 30), "2G");
  EXPECT_EQ(FormatByteSize(1000), "1000");
}

}  // namespace
}  // namespace xehil::agent
