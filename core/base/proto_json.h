// ProtoToJson: a protobuf message as JSON (the canonical mapping: proto
// field names in lowerCamelCase, enums by name), ending in a newline, or the
// conversion's error. Never an empty or partial document in place of an
// error: report and result files are only written from a whole conversion.
//
//   XEHIL_ASSIGN_OR_RETURN(std::string json,
//                          ProtoToJson(report_set, "report", /*pretty=*/true));
//
// Conversion fails for example on an Any whose type is unknown; invalid
// UTF-8 in a string field is dropped by protobuf (and logged), not an error.
#ifndef XEHIL_CORE_BASE_PROTO_JSON_H_
#define XEHIL_CORE_BASE_PROTO_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace xehil {

// `what` names the message in the error: "<what> to JSON: <why>".
absl::StatusOr<std::string> ProtoToJson(
    const google::protobuf::Message& message, absl::string_view what,
    bool pretty);

}  // namespace xehil

#endif  // XEHIL_CORE_BASE_PROTO_JSON_H_
