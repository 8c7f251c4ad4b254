#include "tools/agent/structured_log.h"

#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace xehil::agent {

JsonLine::JsonLine(absl::string_view component) {
  out_ = absl::StrCat(
      "{\"time\":",
      JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                 absl::UTCTimeZone())),
      ",\"component\":", JsonQuote(component));
}

JsonLine& JsonLine::Add(absl::string_view key, absl::string_view value) {
  absl::StrAppend(&out_, ",", JsonQuote(key), ":", JsonQuote(value));
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, int64_t value) {
  absl::StrAppend(&out_, ",", JsonQuote(key), ":", value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, uint64_t value) {
  absl::StrAppend(&out_, ",", JsonQuote(key), ":", value);
  return *this;
}

JsonLine& JsonLine::Add(absl::string_view key, bool value) {
  absl::StrAppend(&out_, ",", JsonQuote(key), ":", value ? "true" : "false");
  return *this;
}

JsonLine& JsonLine::AddRaw(absl::string_view fields) {
  if (!fields.empty()) absl::StrAppend(&out_, ",", fields);
  return *this;
}

std::string JsonQuote(absl::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += "\"";
  return out;
}

void WriteLogLine(const std::string& line) {
  std::string buffer = line + "\n";
  const char* p = buffer.data();
  size_t left = buffer.size();
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to log; never fail the caller
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace xehil::agent
