// Bearer tokens on every RPC of an in-process agent, streams included.
#include <memory>

#include "gtest/gtest.h"
#include "tools/agent/testing/agent_test_util.h"

namespace xehil::agent {
namespace {

using testing::Context;
using testing::InProcessAgent;
using testing::InProcessOptions;

class AgentAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    InProcessOptions options = testing::DefaultInProcessOptions();
    options.token_text = "root-token admin\nviewer-token read\n";
    agent_ = std::make_unique<InProcessAgent>(options);
    ASSERT_TRUE(agent_->Start().ok());
  }

  grpc::StatusCode GetInfo(const std::string& token) {
    lab::AgentInfo info;
    return agent_->stub().GetInfo(Context(token).get(), {}, &info).error_code();
  }
  grpc::StatusCode Acquire(const std::string& token) {
    lab::Lease lease;
    return agent_->stub()
        .AcquirePressure(Context(token).get(), testing::SimRequest(1, 4096),
                         &lease)
        .error_code();
  }
  grpc::StatusCode Hold(const std::string& token) {
    auto context = Context(token);
    auto reader = agent_->stub().HoldLeases(context.get(), {});
    lab::HoldLeasesUpdate update;
    if (reader->Read(&update)) {
      context->TryCancel();
      reader->Finish();
      return grpc::StatusCode::OK;
    }
    return reader->Finish().error_code();
  }
  grpc::StatusCode Watch(const std::string& token) {
    auto context = Context(token);
    auto reader = agent_->stub().WatchEvents(context.get(), {});
    reader->WaitForInitialMetadata();  // subscribed, or refused
    lab::AgentEvent event;
    event.set_text("probe");
    agent_->service().events().Publish(event);
    if (reader->Read(&event)) {
      context->TryCancel();
      reader->Finish();
      return grpc::StatusCode::OK;
    }
    return reader->Finish().error_code();
  }

  std::unique_ptr<InProcessAgent> agent_;
};

TEST_F(AgentAuth, CallsWithoutATokenAreUnauthenticated) {
  EXPECT_EQ(GetInfo(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Acquire(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Hold(""), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Watch(""), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AgentAuth, WrongTokensAreUnauthenticated) {
  EXPECT_EQ(GetInfo("root-token2"), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Acquire("guess"), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AgentAuth, ReadTokensMayOnlyLookAndWatch) {
  EXPECT_EQ(GetInfo("viewer-token"), grpc::StatusCode::OK);
  EXPECT_EQ(Watch("viewer-token"), grpc::StatusCode::OK);
  EXPECT_EQ(Acquire("viewer-token"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Hold("viewer-token"), grpc::StatusCode::PERMISSION_DENIED);
  lab::RunScenarioRequest run;
  auto context = Context("viewer-token");
  auto reader = agent_->stub().RunScenario(context.get(), run);
  lab::RunScenarioUpdate update;
  EXPECT_FALSE(reader->Read(&update));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AgentAuth, AdminTokensMayDoEverything) {
  EXPECT_EQ(GetInfo("root-token"), grpc::StatusCode::OK);
  EXPECT_EQ(Acquire("root-token"), grpc::StatusCode::OK);
  EXPECT_EQ(Hold("root-token"), grpc::StatusCode::OK);
  EXPECT_EQ(Watch("root-token"), grpc::StatusCode::OK);
}

}  // namespace
}  // namespace xehil::agent
