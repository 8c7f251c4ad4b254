#include "core/base/proto_json.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/duration.pb.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

TEST(ProtoToJson, ConvertsAndEndsPrettyOutputWithANewline) {
  google::protobuf::Duration duration;
  duration.set_seconds(3);
  absl::StatusOr<std::string> pretty = ProtoToJson(duration, "duration", true);
  ASSERT_TRUE(pretty.ok()) << pretty.status();
  EXPECT_EQ(*pretty, "\"3s\"\n");
  EXPECT_EQ(*ProtoToJson(duration, "duration", false), "\"3s\"");
}

TEST(ProtoToJson, AFailedConversionIsAnErrorNamingTheMessage) {
  google::protobuf::Any any;
  any.set_type_url("type.googleapis.com/no.such.Message");
  any.set_value("x");
  absl::StatusOr<std::string> json = ProtoToJson(any, "lab run", true);
  ASSERT_FALSE(json.ok()) << *json;
  EXPECT_THAT(std::string(json.status().message()),
              ::testing::StartsWith("lab run to JSON: "));
}

}  // namespace
}  // namespace xehil
