// Structured log lines: one JSON object per line, so that every lease the
// agent hands out can be audited with ordinary tools (jq, grep).
//
//   std::string line = JsonLine("lease")
//                          .Add("event", "acquired")
//                          .Add("bytes", uint64_t{1} << 20)
//                          .Build();
//   // {"time":"2026-11-26T12:00:00.123456Z","component":"lease",
//   //  "event":"acquired","bytes":1048576}
#ifndef XEHIL_TOOLS_AGENT_STRUCTURED_LOG_H_
#define XEHIL_TOOLS_AGENT_STRUCTURED_LOG_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace xehil::agent {

class JsonLine {
 public:
  // Starts with the current UTC time and the component.
  explicit JsonLine(absl::string_view component);

  JsonLine& Add(absl::string_view key, absl::string_view value);
  JsonLine& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  JsonLine& Add(absl::string_view key, const std::string& value) {
    return Add(key, absl::string_view(value));
  }
  JsonLine& Add(absl::string_view key, int64_t value);
  JsonLine& Add(absl::string_view key, uint64_t value);
  JsonLine& Add(absl::string_view key, int value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonLine& Add(absl::string_view key, bool value);
  // Appends `fields` ("\"a\":1,\"b\":2") verbatim; for prebuilt fragments.
  JsonLine& AddRaw(absl::string_view fields);

  // The object, without a newline.
  std::string Build() const { return out_ + "}"; }

 private:
  std::string out_;
};

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(absl::string_view text);

// Writes `line` and a newline to stderr in one write, so that lines from
// several threads never interleave.
void WriteLogLine(const std::string& line);

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_STRUCTURED_LOG_H_
