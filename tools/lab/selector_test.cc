#include "tools/lab/selector.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Inventory Lab() {
  Inventory inv;
  google::protobuf::TextFormat::ParseFromString(R"(
    hosts { name: "dg2-a" address: "h:1" labels: "gpu=xe" labels: "rack=a" }
    hosts { name: "dg2-b" address: "h:2" labels: "gpu=xe" labels: "rack=b" }
    hosts { name: "sim-1" address: "h:3" labels: "sim" labels: "rack=b" }
    hosts { name: "sim-2" address: "h:4" labels: "sim" }
  )",
                                                &inv);
  return inv;
}

std::vector<int> Select(const std::string& selector) {
  absl::StatusOr<std::vector<int>> hosts = SelectHosts(Lab(), selector);
  EXPECT_TRUE(hosts.ok()) << hosts.status();
  return hosts.value_or(std::vector<int>{});
}

TEST(Selector, AllNamesLabelsAndKeys) {
  EXPECT_THAT(Select("all"), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(Select("sim-2"), ElementsAre(3));
  EXPECT_THAT(Select("gpu=xe"), ElementsAre(0, 1));
  EXPECT_THAT(Select("sim"), ElementsAre(2, 3));  // a bare label key
  EXPECT_THAT(Select("rack"), ElementsAre(0, 1, 2));
}

TEST(Selector, CommaIsOrPlusIsAndInInventoryOrder) {
  EXPECT_THAT(Select("sim-2,dg2-a"), ElementsAre(0, 3));
  EXPECT_THAT(Select("gpu=xe+rack=b"), ElementsAre(1));
  EXPECT_THAT(Select("gpu=xe+rack=b, sim-2"), ElementsAre(1, 3));
  EXPECT_THAT(Select("rack=b+sim"), ElementsAre(2));
  EXPECT_THAT(Select("all,sim-1"), ElementsAre(0, 1, 2, 3));
}

TEST(Selector, Wildcards) {
  EXPECT_THAT(Select("dg2-*"), ElementsAre(0, 1));
  EXPECT_THAT(Select("rack=*"), ElementsAre(0, 1, 2));
  EXPECT_THAT(Select("sim-?+rack=b"), ElementsAre(2));
}

TEST(Selector, ErrorsNameTheSelector) {
  absl::StatusOr<std::vector<int>> none = SelectHosts(Lab(), "gpu=amd");
  EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(none.status().message(), HasSubstr("--hosts='gpu=amd'"));
  EXPECT_THAT(none.status().message(), HasSubstr("matches no host"));
  EXPECT_THAT(SelectHosts(Lab(), "dg2-c").status().message(),
              HasSubstr("'dg2-c' is neither a host nor a label key"));
  EXPECT_THAT(SelectHosts(Lab(), "gpu=xe+sim-2").status().message(),
              HasSubstr("matches no host"));
  for (const char* bad : {"", " ", "a,,b", "+a", "=xe", "a b", "x!"}) {
    EXPECT_EQ(SelectHosts(Lab(), bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

}  // namespace
}  // namespace xehil::lab
