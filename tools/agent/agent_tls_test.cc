// xehil-agent with mutual TLS: only clients holding a certificate from the
// configured CA get in. Certificates are made at test time with openssl.
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/lab.grpc.pb.h"
#include "tools/agent/testing/agent_test_util.h"
#include "common/testing/child_process.h"
#include "tools/agent/testing/test_certs.h"

namespace xehil::agent {
namespace {

using process_testing::ChildProcess;
using testing::Context;
using ::testing::HasSubstr;
using testing::kLongWait;
using testing::ReadFileOrEmpty;
using testing::TestPki;

class AgentTls : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<TestPki> pki = testing::MakeTestPki(getenv("TEST_TMPDIR"));
    ASSERT_TRUE(pki.ok()) << pki.status()
                          << " (scripts/install-deps.sh installs openssl)";
    pki_ = *pki;
    absl::StatusOr<std::unique_ptr<ChildProcess>> process = ChildProcess::Start(
        "tools/agent/xehil-agent",
        {"--listen=127.0.0.1:0", "--tls-cert=" + pki_.server_pem,
         "--tls-key=" + pki_.server_key, "--tls-client-ca=" + pki_.ca_pem});
    ASSERT_TRUE(process.ok()) << process.status();
    agent_ = *std::move(process);
    const std::string line = agent_->NextStdoutLine(kLongWait).value_or("");
    absl::string_view port = line;
    ASSERT_TRUE(absl::ConsumePrefix(&port, "listening on 127.0.0.1:"))
        << line << agent_->StderrText();
    address_ = absl::StrCat("127.0.0.1:", port);
  }

  void TearDown() override {
    if (agent_ != nullptr) {
      EXPECT_THAT(agent_->StderrText(), ::testing::Not(HasSubstr("Sanitizer")));
    }
  }

  // A client trusting the test CA, presenting `cert`/`key` if given.
  std::unique_ptr<lab::Agent::Stub> Client(const std::string& cert,
                                           const std::string& key) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrEmpty(pki_.ca_pem);
    if (!cert.empty()) {
      ssl.pem_cert_chain = ReadFileOrEmpty(cert);
      ssl.pem_private_key = ReadFileOrEmpty(key);
    }
    return lab::Agent::NewStub(
        grpc::CreateChannel(address_, grpc::SslCredentials(ssl)));
  }

  grpc::Status GetInfo(lab::Agent::Stub& stub, lab::AgentInfo* info) {
    return stub.GetInfo(Context("", absl::Seconds(10)).get(), {}, info);
  }

  TestPki pki_;
  std::unique_ptr<ChildProcess> agent_;
  std::string address_;
};

TEST_F(AgentTls, ClientWithACertificateFromTheCaIsServed) {
  auto stub = Client(pki_.client_pem, pki_.client_key);
  lab::AgentInfo info;
  grpc::Status status = GetInfo(*stub, &info);
  ASSERT_TRUE(status.ok()) << status.error_message() << agent_->StderrText();
  EXPECT_EQ(info.caller_role(), "admin");
  lab::Lease lease;
  ASSERT_TRUE(stub->AcquirePressure(Context().get(),
                                    testing::SimRequest(1, 1 << 20), &lease)
                  .ok());
  EXPECT_THAT(lease.holder(), HasSubstr("cn=lab-controller"));
}

TEST_F(AgentTls, ClientCertificateFromAnotherCaIsRejected) {
  auto stub = Client(pki_.other_client_pem, pki_.other_client_key);
  lab::AgentInfo info;
  EXPECT_FALSE(GetInfo(*stub, &info).ok());
}

TEST_F(AgentTls, ClientWithoutACertificateIsRejected) {
  auto stub = Client("", "");
  lab::AgentInfo info;
  EXPECT_FALSE(GetInfo(*stub, &info).ok());
}

TEST_F(AgentTls, PlainTextClientIsRejected) {
  auto stub = lab::Agent::NewStub(
      grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  lab::AgentInfo info;
  EXPECT_FALSE(GetInfo(*stub, &info).ok());
}

}  // namespace
}  // namespace xehil::agent
