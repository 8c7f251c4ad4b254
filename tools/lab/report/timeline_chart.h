// The lab report's event/restart timeline: an inline SVG with one horizontal
// lane per host x report (x = time since that scenario started, one shared
// scale), a marker per watch event and per VM restart, each with a <title>
// tooltip. A host without reports gets one lane saying why (its error, or
// "no reports"); a host with an error *and* reports gets an extra error lane.
//
//   std::string svg = TimelineSvg(lab_run);   // embed in HTML as is
//
// Markers carry class "mk mk-<kind>" so tests (and CSS) can find them. Lanes
// with more entries than the per-lane cap are downsampled: one marker per
// kind and time bucket, its tooltip giving the count and time span; the chart
// says so above the lanes.
#ifndef XEHIL_TOOLS_LAB_REPORT_TIMELINE_CHART_H_
#define XEHIL_TOOLS_LAB_REPORT_TIMELINE_CHART_H_

#include <string>

#include "proto/lab_controller.pb.h"
#include "tools/lab/report/chart_util.h"
#include "tools/lab/report/timeline_marks.h"  // IWYU pragma: export

namespace xehil::lab {

// The whole <svg> element, sized to the lanes (never empty: 0 hosts gives a
// small chart saying so).
std::string TimelineSvg(const LabRun& run, const ChartOptions& options = {});

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_TIMELINE_CHART_H_
