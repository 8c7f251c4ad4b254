// The lab report's recovery-latency chart: an inline SVG dot-range plot with
// one row per host x report that has latency samples (a host without any gets
// one "no samples" row). Each row shows p50 (dot), p90 (tick), p99 (diamond)
// and max (cross) on a log-scale axis in µs, a bar from p50 to p99 and a line
// on to max; every glyph has a <title> tooltip with the exact numbers.
//
//   std::string svg = LatencySvg(lab_run);   // embed in HTML as is
//
// Rows are <g class="lat-row">. Non-finite or negative values in a summary
// are not drawn (and said so in the tooltip), never crash the writer.
#ifndef XEHIL_TOOLS_LAB_REPORT_LATENCY_CHART_H_
#define XEHIL_TOOLS_LAB_REPORT_LATENCY_CHART_H_

#include <string>
#include <vector>

#include "proto/lab_controller.pb.h"
#include "tools/lab/report/chart_util.h"

namespace xehil::lab {

// Decade ticks 10^k covering the positive finite values given: at least one
// decade, clamped to [0.01, 1e12] (µs); {1, 10} when there are none.
std::vector<double> DecadeTicks(const std::vector<double>& values);

// The whole <svg> element, sized to the rows.
std::string LatencySvg(const LabRun& run, const ChartOptions& options = {});

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_LATENCY_CHART_H_
