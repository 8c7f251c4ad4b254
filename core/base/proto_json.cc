#include "core/base/proto_json.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace xehil {

absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message, absl::string_view what,
    bool pretty) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  std::string json;
  const google::protobuf::util::Status converted =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!converted.ok()) {
    // Protobuf's status codes are the canonical ones.
    return absl::Status(
        static_cast<absl::StatusCode>(static_cast<int>(converted.code())),
        absl::StrCat(what, " to JSON: ", converted.message().ToString()));
  }
  if (pretty && (json.empty() || json.back() != '\n')) json += '\n';
  return json;
}

}  // namespace xehil
