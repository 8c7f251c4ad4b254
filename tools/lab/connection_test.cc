#include "tools/lab/connection.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/agent/testing/agent_test_util.h"
#include "common/testing/child_process.h"
#include "tools/agent/testing/test_certs.h"

namespace xehil::lab {
namespace {

using agent::testing::InProcessAgent;
using ::testing::HasSubstr;

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << text;
  return path;
}

Host HostAt(const std::string& address) {
  Host host;
  host.set_name("h");
  host.set_address(address);
  return host;
}

absl::StatusOr<AgentInfo> GetInfo(HostConnection& conn) {
  AgentInfo info;
  std::unique_ptr<grpc::ClientContext> context =
      conn.NewContext(absl::Seconds(20));
  absl::Status s = FromGrpc(conn.stub().GetInfo(context.get(), {}, &info));
  if (!s.ok()) return s;
  return info;
}

TEST(HostConnection, SendsTheBearerTokenOnEveryCall) {
  agent::testing::InProcessOptions options =
      agent::testing::DefaultInProcessOptions();
  options.token_text = "admin-secret admin\nread-secret read\n";
  InProcessAgent agent(options);
  ASSERT_TRUE(agent.Start().ok());

  Credentials admin;
  admin.set_token_file(WriteFile("admin", "  admin-secret \n"));
  absl::StatusOr<std::unique_ptr<HostConnection>> conn =
      HostConnection::Create(HostAt(agent.address()), admin);
  ASSERT_TRUE(conn.ok()) << conn.status();
  for (int i = 0; i < 2; ++i) {
    absl::StatusOr<AgentInfo> info = GetInfo(**conn);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->caller_role(), "admin");
  }

  Credentials read;
  read.set_token_file(WriteFile("read", "read-secret"));
  conn = HostConnection::Create(HostAt(agent.address()), read);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(GetInfo(**conn)->caller_role(), "read");

  conn = HostConnection::Create(HostAt(agent.address()), Credentials());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(GetInfo(**conn).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(HostConnection, UnreadableOrEmptyTokenIsAnErrorBeforeAnyCall) {
  Credentials missing;
  missing.set_token_file("/nonexistent/token");
  EXPECT_EQ(
      HostConnection::Create(HostAt("127.0.0.1:1"), missing).status().code(),
      absl::StatusCode::kNotFound);
  Credentials empty;
  empty.set_token_file(WriteFile("empty", " \n"));
  EXPECT_EQ(
      HostConnection::Create(HostAt("127.0.0.1:1"), empty).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(HostConnection, AHostThatIsDownIsUnavailable) {
  absl::StatusOr<std::unique_ptr<HostConnection>> conn =
      HostConnection::Create(HostAt("127.0.0.1:1"), Credentials());
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(GetInfo(**conn).status().code(), absl::StatusCode::kUnavailable);
}

TEST(HostConnection, MutualTlsWithTheInventorysCertificates) {
  absl::StatusOr<agent::testing::TestPki> pki =
      agent::testing::MakeTestPki(std::getenv("TEST_TMPDIR"));
  ASSERT_TRUE(pki.ok()) << pki.status();
  absl::StatusOr<std::unique_ptr<process_testing::ChildProcess>> agent =
      process_testing::ChildProcess::Start(
          "tools/agent/xehil-agent",
          {"--listen=127.0.0.1:0", "--tls-cert=" + pki->server_pem,
           "--tls-key=" + pki->server_key, "--tls-client-ca=" + pki->ca_pem});
  ASSERT_TRUE(agent.ok()) << agent.status();
  const std::string line =
      (*agent)->NextStdoutLine(absl::Seconds(20)).value_or("");
  absl::string_view port = line;
  ASSERT_TRUE(absl::ConsumePrefix(&port, "listening on 127.0.0.1:")) << line;
  const std::string address = absl::StrCat("127.0.0.1:", port);

  Credentials tls;
  tls.set_tls_ca(pki->ca_pem);
  tls.set_tls_cert(pki->client_pem);
  tls.set_tls_key(pki->client_key);
  absl::StatusOr<std::unique_ptr<HostConnection>> conn =
      HostConnection::Create(HostAt(address), tls);
  ASSERT_TRUE(conn.ok()) << conn.status();
  absl::StatusOr<AgentInfo> info = GetInfo(**conn);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->backend(), "sim");

  // Without a client certificate the handshake fails.
  tls.clear_tls_cert();
  tls.clear_tls_key();
  conn = HostConnection::Create(HostAt(address), tls);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(GetInfo(**conn).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT((*agent)->StderrText(), ::testing::Not(HasSubstr("Sanitizer")));
}

TEST(CodeName, MatchesGrpcSpelling) {
  EXPECT_EQ(CodeName(absl::StatusCode::kUnavailable), "UNAVAILABLE");
  EXPECT_EQ(CodeName(absl::StatusCode::kDeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(FromGrpc(grpc::Status(grpc::StatusCode::NOT_FOUND, "x")),
            absl::NotFoundError("x"));
}

}  // namespace
}  // namespace xehil::lab
