#include "tools/lab/output.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace xehil::lab {

void LinePrinter::Host(absl::string_view host, absl::string_view text) {
  absl::MutexLock lock(&mu_);
  out_ << absl::StrFormat("%-*s | %s\n", static_cast<int>(name_width_), host,
                          text)
       << std::flush;
}

void LinePrinter::Line(absl::string_view text) {
  absl::MutexLock lock(&mu_);
  out_ << text << "\n" << std::flush;
}

std::string HumanBytes(uint64_t bytes) {
  static constexpr char kUnits[] = "KMGTPE";
  if (bytes < 1024) return absl::StrCat(bytes);
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  const uint64_t scale = uint64_t{1} << (10 * (unit + 1));
  if (bytes % scale == 0) {
    return absl::StrCat(bytes / scale, std::string(1, kUnits[unit]));
  }
  return absl::StrFormat("%.1f%c", value, kUnits[unit]);
}

std::string Clip(absl::string_view text, size_t width) {
  if (text.size() <= width) return std::string(text);
  if (width <= 3) return std::string(text.substr(0, width));
  return absl::StrCat(text.substr(0, width - 3), "...");
}

}  // namespace xehil::lab
