#include "tools/lab/inventory.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

using ::testing::HasSubstr;

class InventoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = absl::StrCat(
        std::getenv("TEST_TMPDIR"), "/",
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ + "/tokens");
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(dir_, "/", name);
    std::ofstream(path) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(InventoryTest, LoadsHostsLabelsAndResolvesCredentialPaths) {
  Write("tokens/admin", "  s3cret  \nignored\n");
  Write("ca.pem", "pem");
  const std::string path = Write("lab.textproto", R"(
default_credentials { token_file: "tokens/admin" }
hosts { name: "a" address: "127.0.0.1:1234" labels: "gpu=xe" labels: "sim" }
hosts {
  name: "b" address: "[::1]:50051"
  credentials { tls_ca: "ca.pem" tls_server_name: "agent-b" }
}
info_deadline_ms: 1500
)");
  absl::StatusOr<Inventory> inv = LoadInventory(path);
  ASSERT_TRUE(inv.ok()) << inv.status();
  ASSERT_EQ(inv->hosts_size(), 2);
  EXPECT_EQ(inv->default_credentials().token_file(), dir_ + "/tokens/admin");
  EXPECT_EQ(inv->hosts(1).credentials().tls_ca(), dir_ + "/ca.pem");
  EXPECT_EQ(CredentialsFor(*inv, inv->hosts(0)).token_file(),
            dir_ + "/tokens/admin");
  // A host with its own credentials does not inherit the defaults.
  EXPECT_EQ(CredentialsFor(*inv, inv->hosts(1)).token_file(), "");
  EXPECT_EQ(inv->info_deadline_ms(), 1500u);
}

TEST_F(InventoryTest, SyntaxErrorsNameFileLineAndColumn) {
  const std::string path = Write("bad.textproto",
                                 "hosts { name: \"a\" address: \"h:1\" }\n"
                                 "hosts { nmae: \"b\" }\n");
  absl::StatusOr<Inventory> inv = LoadInventory(path);
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr(path + ":2:13: "));
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr("nmae"));
}

TEST_F(InventoryTest, DuplicateNamesPointAtTheSecondAndTheFirst) {
  absl::StatusOr<Inventory> inv = ParseInventoryText(
      "hosts { name: \"a\" address: \"h:1\" }\n"
      "\n"
      "hosts {\n"
      "  name: \"a\" address: \"h:2\" }\n",
      "lab.textproto", "");
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()),
              HasSubstr("lab.textproto:4:3: duplicate host name 'a' (first at "
                        "line 1)"));
}

TEST_F(InventoryTest, RejectsBadAddressesWithTheirPosition) {
  for (const char* address :
       {"nohost", "h:0", "h:70000", ":80", "h:x", "a:b:c", "[::1]", ""}) {
    absl::StatusOr<Inventory> inv = ParseInventoryText(
        absl::StrCat("hosts { name: \"a\"\n  address: \"", address, "\" }"),
        "lab", "");
    EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument)
        << address;
    EXPECT_THAT(std::string(inv.status().message()),
                HasSubstr(*address ? "lab:2:3: address" : "no address"))
        << address;
  }
}

TEST_F(InventoryTest, RejectsBadNamesAndLabels) {
  EXPECT_THAT(
      std::string(ParseInventoryText("hosts { address: \"h:1\" }", "lab", "")
                      .status()
                      .message()),
      HasSubstr("has no name"));
  EXPECT_THAT(
      std::string(ParseInventoryText("hosts { name: \"a,b\" address: \"h:1\" }",
                                     "lab", "")
                      .status()
                      .message()),
      HasSubstr("lab:1:9: host name 'a,b'"));
  EXPECT_THAT(
      std::string(
          ParseInventoryText(
              "hosts { name: \"a\" address: \"h:1\" labels: \"x+y=1\" }", "lab",
              "")
              .status()
              .message()),
      HasSubstr("label 'x+y=1'"));
  EXPECT_THAT(std::string(ParseInventoryText("", "lab", "").status().message()),
              HasSubstr("no hosts"));
}

TEST_F(InventoryTest, MissingOrEmptyTokenFileIsAnError) {
  Write("tokens/empty", "\n");
  const std::string missing =
      Write("missing.textproto",
            "default_credentials { token_file: \"tokens/none\" }\n"
            "hosts { name: \"a\" address: \"h:1\" }\n");
  absl::StatusOr<Inventory> inv = LoadInventory(missing);
  EXPECT_EQ(inv.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(inv.status().message()), HasSubstr(missing + ":1:1"));
  EXPECT_THAT(std::string(inv.status().message()),
              HasSubstr(dir_ + "/tokens/none"));
  const std::string empty =
      Write("empty.textproto",
            "hosts { name: \"a\" address: \"h:1\"\n"
            "  credentials { token_file: \"tokens/empty\" } }\n");
  EXPECT_THAT(std::string(LoadInventory(empty).status().message()),
              HasSubstr("holds no token"));
}

TEST_F(InventoryTest, TlsSettingsMustBeComplete) {
  Write("cert.pem", "c");
  EXPECT_THAT(
      std::string(LoadInventory(Write("tls.textproto",
                                      "hosts { name: \"a\" address: \"h:1\"\n"
                                      "  credentials { tls_cert: \"cert.pem\" "
                                      "} }"))
                      .status()
                      .message()),
      HasSubstr("tls_cert and tls_key go together"));
}

TEST_F(InventoryTest, UnreadableInventoryIsNotFound) {
  EXPECT_EQ(LoadInventory(dir_ + "/none.textproto").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace xehil::lab
