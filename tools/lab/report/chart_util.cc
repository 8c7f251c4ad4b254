#include "tools/lab/report/chart_util.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/scenario/report_writer.h"

namespace xehil::lab {
namespace {

// Two or three significant digits, enough for a table cell.
std::string ThreeDigits(double v) {
  if (v < 10) return absl::StrFormat("%.2f", v);
  if (v < 100) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.0f", v);
}

std::string Trimmed(double v) { return absl::StrFormat("%.6g", v); }

}  // namespace

std::string FormatMicros(double us) {
  if (!std::isfinite(us) || us < 0) return "-";
  if (us < 10)
    return absl::StrCat(absl::StrFormat("%.1f", us), " ", kMicro, "s");
  if (us < 1000)
    return absl::StrCat(absl::StrFormat("%.0f", us), " ", kMicro, "s");
  if (us < 1e6) return absl::StrCat(ThreeDigits(us / 1e3), " ms");
  return absl::StrCat(ThreeDigits(us / 1e6), " s");
}

std::string FormatMillis(uint64_t ms) {
  if (ms < 1000) return absl::StrCat(ms, " ms");
  if (ms < 60000) return absl::StrFormat("%.1f s", ms / 1000.0);
  const uint64_t s = ms / 1000;
  if (s < 3600) return absl::StrFormat("%d min %02d s", s / 60, s % 60);
  return absl::StrFormat("%d h %02d min", s / 3600, (s / 60) % 60);
}

std::string FormatUnixMs(int64_t unix_ms) {
  // Beyond year 9999 strftime's output would no longer be a date people read.
  if (unix_ms <= 0 || unix_ms > 253402300799999) return "unknown";
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == nullptr) return "unknown";
  char buf[64];
  if (strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) == 0) {
    return "unknown";
  }
  return absl::StrFormat("%s.%03d UTC", buf, static_cast<int>(unix_ms % 1000));
}

std::string FormatTick(double value) {
  if (!std::isfinite(value)) return "?";
  const double a = std::fabs(value);
  if (a >= 1e9) return absl::StrCat(Trimmed(value / 1e9), "G");
  if (a >= 1e6) return absl::StrCat(Trimmed(value / 1e6), "M");
  if (a >= 1e4) return absl::StrCat(Trimmed(value / 1e3), "k");
  if (a < 1e-9) return "0";
  return Trimmed(value);
}

std::string SvgNum(double value) {
  if (!std::isfinite(value)) return "0";
  std::string s = absl::StrFormat("%.1f", value);
  if (s.size() >= 2 && s.compare(s.size() - 2, 2, ".0") == 0)
    s.resize(s.size() - 2);
  if (s == "-0") s = "0";
  return s;
}

std::string SvgText(double x, double y, absl::string_view attrs,
                    absl::string_view text, absl::string_view title) {
  std::string out = absl::StrCat("<text x=\"", SvgNum(x), "\" y=\"", SvgNum(y),
                                 "\"", attrs, ">", XmlEscape(text));
  if (!title.empty()) {
    absl::StrAppend(&out, "<title>", XmlEscape(title), "</title>");
  }
  return absl::StrCat(out, "</text>\n");
}

std::string Ellipsize(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  static constexpr absl::string_view kEllipsis = "\xe2\x80\xa6";
  size_t cut = max_bytes > kEllipsis.size() ? max_bytes - kEllipsis.size() : 0;
  // Never split a UTF-8 sequence: back off over continuation bytes.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  return absl::StrCat(text.substr(0, cut), kEllipsis);
}

size_t LabelFit(double px) {
  return px > 8 * 6.8 ? static_cast<size_t>(px / 6.8) : 8;
}

const char* ResultColor(Result result) {
  switch (result) {
    case RESULT_PASS:
      return "#2e7d32";
    case RESULT_FAIL:
      return "#c62828";
    case RESULT_SKIP:
      return "#757575";
    case RESULT_TIMEOUT:
      return "#ef6c00";
    case RESULT_INCOMPLETE:
      return "#6a1b9a";
    default:
      return "#9e9e9e";
  }
}

const char* ResultClass(Result result) {
  switch (result) {
    case RESULT_PASS:
      return "pass";
    case RESULT_FAIL:
      return "fail";
    case RESULT_SKIP:
      return "skip";
    case RESULT_TIMEOUT:
      return "timeout";
    case RESULT_INCOMPLETE:
      return "incomplete";
    default:
      return "unspecified";
  }
}

std::vector<double> LinearTicks(double max_value, int target,
                                double* axis_max) {
  if (!std::isfinite(max_value) || max_value <= 0) max_value = 1;
  if (target < 1) target = 1;
  const double raw = max_value / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm <= 1   ? 1
                       : norm <= 2 ? 2
                       : norm <= 5 ? 5
                                   : 10) *
                      mag;
  // The epsilon keeps 1000/100 from becoming 11 intervals by rounding.
  const int n =
      std::max(1, static_cast<int>(std::ceil(max_value / step - 1e-9)));
  std::vector<double> ticks;
  ticks.reserve(n + 1);
  for (int i = 0; i <= n; ++i) ticks.push_back(i * step);
  *axis_max = n * step;
  return ticks;
}

TimeUnit TimeUnitFor(double max_us) {
  if (max_us < 2000) return {1, absl::StrCat(kMicro, "s")};
  if (max_us < 2e6) return {1e3, "ms"};
  return {1e6, "s"};
}

}  // namespace xehil::lab
