// Shared pieces of the lab report's HTML page and SVG charts: number and time
// formatting for people, result colours, axis ticks, and the options the
// charts take. Nothing here knows about hosts or scenarios.
//
//   FormatMicros(1234.0)      // "1.23 ms"
//   FormatUnixMs(0)           // "unknown"
//   double max = 0;
//   LinearTicks(930.0, 8, &max)  // {0, 100, ..., 1000}, max == 1000
#ifndef XEHIL_TOOLS_LAB_REPORT_CHART_UTIL_H_
#define XEHIL_TOOLS_LAB_REPORT_CHART_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil::lab {

// "µ" in UTF-8; the page declares charset utf-8.
inline constexpr char kMicro[] = "\xc2\xb5";

// Limits that keep the page usable for big labs and huge timelines.
struct ChartOptions {
  int width = 1000;       // px, the whole chart
  int label_width = 270;  // px, lane/row labels on the left
  int lane_height = 18;   // px per lane or row; the chart grows with them
  // Markers per timeline lane; beyond it a lane is downsampled (one marker
  // per kind and time bucket, its tooltip giving the count).
  size_t max_markers_per_lane = 400;
  // Budget over all lanes: the per-lane cap shrinks (to no less than 20) so
  // a 1000-lane page stays a few MB.
  size_t max_total_markers = 20000;
  // Lanes (timeline) or rows (latency) drawn; the rest are counted in a note.
  size_t max_lanes = 2000;
};

// "850 µs", "12.3 ms", "4.20 s"; "-" for negative or non-finite input.
std::string FormatMicros(double us);

// "350 ms", "12.3 s", "4 min 05 s", "2 h 03 min".
std::string FormatMillis(uint64_t ms);

// "2026-11-26 14:03:07.123 UTC"; "unknown" for 0 or out of range.
std::string FormatUnixMs(int64_t unix_ms);

// A number for an axis label: "0", "2.5", "100", "10k", "1.5M".
std::string FormatTick(double value);

// A coordinate for SVG attributes: one decimal, no trailing ".0".
std::string SvgNum(double value);

// Cuts `text` to at most `max_bytes` bytes at a UTF-8 character boundary,
// ending in "…" when something was cut. The result is still unescaped.
std::string Ellipsize(absl::string_view text, size_t max_bytes);

// An SVG <text> element at (x, y) with extra `attrs` (" fill=...", leading
// space), escaped `text` and, if `title` is not empty, an escaped tooltip.
std::string SvgText(double x, double y, absl::string_view attrs,
                    absl::string_view text, absl::string_view title = "");

// How many bytes of a (mostly ASCII) label fit in `px` pixels at the
// charts' 11 px sans-serif, bold included; at least 8.
size_t LabelFit(double px);

// Fill colour ("#2e7d32", ...) and CSS class suffix ("pass", "fail", "skip",
// "timeout", "incomplete", "unspecified") for a result.
const char* ResultColor(Result result);
const char* ResultClass(Result result);

// Ticks 0, step, 2*step, ... covering [0, max_value] with about `target`
// intervals and a 1-2-5 step. *axis_max gets the last tick (>= max_value,
// > 0). Non-finite or non-positive max_value gives the axis [0, 1].
std::vector<double> LinearTicks(double max_value, int target, double* axis_max);

// The unit to label a time axis whose largest value is `max_us`:
// divisor 1 ("µs"), 1e3 ("ms") or 1e6 ("s").
struct TimeUnit {
  double divisor;
  std::string name;
};
TimeUnit TimeUnitFor(double max_us);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_CHART_UTIL_H_
