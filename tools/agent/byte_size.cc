#include "tools/agent/byte_size.h"

#include <cctype>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace xehil::agent {

std::optional<uint64_t> ParseByteSize(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  size_t digits = 0;
  while (digits < text.size() &&
         absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0) return std::nullopt;
  uint64_t value = 0;
  if (!absl::SimpleAtoi(text.substr(0, digits), &value)) return std::nullopt;
  absl::string_view unit = text.substr(digits);
  if (!absl::ConsumeSuffix(&unit, "iB")) absl::ConsumeSuffix(&unit, "B");
  int shift = 0;
  if (unit.empty()) {
    shift = 0;
  } else if (unit.size() == 1) {
    switch (absl::ascii_toupper(static_cast<unsigned char>(unit[0]))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (shift > 0 && value > (std::numeric_limits<uint64_t>::max() >> shift)) {
    return std::nullopt;
  }
  return value << shift;
}

std::string FormatByteSize(uint64_t bytes) {
  static constexpr struct {
    int shift;
    const char* unit;
  } kUnits[] = {{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}};
  if (bytes != 0) {
    for (const auto& u : kUnits) {
      const uint64_t mask = (uint64_t{1} << u.shift) - 1;
      if ((bytes & mask) == 0) return absl::StrCat(bytes >> u.shift, u.unit);
    }
  }
  return absl::StrCat(bytes);
}

bool AbslParseFlag(absl::string_view text, ByteSize* out, std::string* error) {
  std::optional<uint64_t> bytes = ParseByteSize(text);
  if (!bytes.has_value()) {
    *error = "not a size (e.g. 1073741824, 512K, 64M, 2G)";
    return false;
  }
  out->bytes = *bytes;
  return true;
}

std::string AbslUnparseFlag(ByteSize size) {
  return FormatByteSize(size.bytes);
}

}  // namespace xehil::agent
