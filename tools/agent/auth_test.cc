#include "tools/agent/auth.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::agent {
namespace {

using ::testing::HasSubstr;

TEST(Authorizer, AllowAllMakesEveryCallerAnAdmin) {
  Authorizer auth = Authorizer::AllowAll();
  EXPECT_FALSE(auth.uses_tokens());
  EXPECT_EQ(auth.RoleFor(std::nullopt).value(), Role::kAdmin);
}

TEST(Authorizer, TokensMapToTheirRoles) {
  absl::StatusOr<Authorizer> auth = Authorizer::FromTokenText(
      "# lab\n\n  alpha-token admin\nbeta-token\tread\n", "tokens");
  ASSERT_TRUE(auth.ok()) << auth.status();
  int line = 0;
  EXPECT_EQ(auth->RoleFor("Bearer alpha-token", &line).value(), Role::kAdmin);
  EXPECT_EQ(line, 3);
  EXPECT_EQ(auth->RoleFor("Bearer beta-token").value(), Role::kRead);
}

TEST(Authorizer, MissingMalformedAndUnknownTokensAreUnauthenticated) {
  absl::StatusOr<Authorizer> auth =
      Authorizer::FromTokenText("alpha-token admin\n", "tokens");
  ASSERT_TRUE(auth.ok());
  for (std::optional<absl::string_view> header :
       {std::optional<absl::string_view>(),
        std::optional<absl::string_view>("alpha-token"),
        std::optional<absl::string_view>("Bearer alpha"),
        std::optional<absl::string_view>("Bearer alpha-token-2"),
        std::optional<absl::string_view>("Bearer ")}) {
    EXPECT_TRUE(absl::IsUnauthenticated(auth->RoleFor(header).status()))
        << header.value_or("<none>");
  }
}

TEST(Authorizer, BadTokenFilesNameTheLine) {
  absl::Status s = Authorizer::FromTokenText("a admin\nb root\n", "t").status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_THAT(s.message(), HasSubstr("t:2: unknown role 'root'"));
  s = Authorizer::FromTokenText("a admin extra\n", "t").status();
  EXPECT_THAT(s.message(), HasSubstr("t:1:"));
  s = Authorizer::FromTokenText("a admin\na read\n", "t").status();
  EXPECT_THAT(s.message(), HasSubstr("same token as line 1"));
  s = Authorizer::FromTokenText("# nothing\n", "t").status();
  EXPECT_THAT(s.message(), HasSubstr("no tokens"));
  EXPECT_TRUE(absl::IsNotFound(
      Authorizer::FromTokenFile("/nonexistent/tokens").status()));
}

}  // namespace
}  // namespace xehil::agent
