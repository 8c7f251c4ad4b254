#include "tools/lab/report/timeline_chart.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/scenario/report_writer.h"

namespace xehil::lab {
namespace {

constexpr int kTop = 50;     // legend and notes above the lanes
constexpr int kBottom = 48;  // axis ticks, labels and title below
constexpr int kRight = 24;   // room for the "downsampled" mark
constexpr char kDot[] = " \xc2\xb7 ";

// One lane: a report, or a line about a host (its error, or no reports).
struct Lane {
  std::string label;
  bool first_of_host = false;
  const Report* report = nullptr;
  std::string message;  // lanes without a report
  bool error = false;
};

std::vector<Lane> BuildLanes(const LabRun& run) {
  std::vector<Lane> lanes;
  for (const HostRun& host : run.hosts()) {
    const size_t first = lanes.size();
    for (const Report& r : host.reports()) {
      Lane lane;
      lane.label = absl::StrCat(host.host(), kDot, r.scenario());
      if (r.repeat_index() > 0)
        absl::StrAppend(&lane.label, " #", r.repeat_index());
      lane.report = &r;
      lanes.push_back(std::move(lane));
    }
    if (!host.error().empty() || host.reports().empty()) {
      Lane lane;
      lane.error = !host.error().empty();
      lane.label = lane.error && !host.reports().empty()
                       ? absl::StrCat(host.host(), kDot, "host error")
                       : host.host();
      lane.message = !lane.error ? "no reports"
                     : host.reports().empty()
                         ? absl::StrCat("unreachable: ", host.error())
                         : absl::StrCat("error: ", host.error());
      lanes.push_back(std::move(lane));
    }
    lanes[first].first_of_host = true;
  }
  return lanes;
}

// A marker shape centred on (x, y); `cls` is its class, `extra` more
// attributes, `title` (unescaped) its tooltip.
std::string Shape(MarkerKind kind, double x, double y, const std::string& cls,
                  const std::string& extra, const std::string& title) {
  const std::string X = SvgNum(x), Y = SvgNum(y);
  auto P = [&](double dx, double dy) {
    return absl::StrCat(SvgNum(x + dx), ",", SvgNum(y + dy));
  };
  const char* tag = "path";
  std::string attrs;
  switch (kind) {
    case MarkerKind::kVmError:
      tag = "circle";
      attrs = absl::StrCat("cx=\"", X, "\" cy=\"", Y,
                           "\" r=\"3.5\" fill=\"#d32f2f\"");
      break;
    case MarkerKind::kLoss:
      attrs =
          absl::StrCat("d=\"M", P(0, -4.5), " L", P(4.5, 0), " L", P(0, 4.5),
                       " L", P(-4.5, 0), " Z\" fill=\"#f57c00\"");
      break;
    case MarkerKind::kOtherEvent:
      tag = "rect";
      attrs = absl::StrCat("x=\"", SvgNum(x - 3), "\" y=\"", SvgNum(y - 3),
                           "\" width=\"6\" height=\"6\" fill=\"#616161\"");
      break;
    case MarkerKind::kRestartOk:
      attrs = absl::StrCat("d=\"M", P(0, -4), " L", P(4, 3.5), " L", P(-4, 3.5),
                           " Z\" fill=\"#2e7d32\"");
      break;
    case MarkerKind::kRestartFailed:
      attrs = absl::StrCat("d=\"M", P(0, 4), " L", P(4, -3.5), " L",
                           P(-4, -3.5), " Z\" fill=\"#7b1fa2\"");
      break;
  }
  std::string out =
      absl::StrCat("<", tag, " ", attrs, " class=\"", cls, "\"", extra);
  if (title.empty()) return absl::StrCat(out, "/>");
  return absl::StrCat(out, "><title>", XmlEscape(title), "</title></", tag,
                      ">");
}

}  // namespace

std::string TimelineSvg(const LabRun& run, const ChartOptions& options) {
  const std::vector<Lane> lanes = BuildLanes(run);
  const size_t drawn = std::min(lanes.size(), options.max_lanes);
  const int lane_h = std::max(12, options.lane_height);
  const double x0 = std::max(40, options.label_width);
  const double width = std::max<double>(options.width, x0 + 200);
  const double plot_w = width - kRight - x0;
  const size_t cap =
      std::min(options.max_markers_per_lane,
               std::max<size_t>(
                   20, options.max_total_markers / std::max<size_t>(1, drawn)));
  std::vector<std::vector<Mark>> marks(drawn);
  std::vector<size_t> entries(drawn, 0);
  double max_span = 0;
  bool downsampled = false;
  for (size_t i = 0; i < drawn; ++i) {
    if (lanes[i].report == nullptr) continue;
    marks[i] =
        ReportMarks(*lanes[i].report, std::max<size_t>(1, cap), &entries[i]);
    downsampled |= marks[i].size() < entries[i];
    max_span = std::max(max_span, ReportSpanUs(*lanes[i].report));
  }
  double axis_max = 1;
  const std::vector<double> ticks = LinearTicks(max_span, 8, &axis_max);
  const TimeUnit unit = TimeUnitFor(axis_max);
  auto X = [&](double t_us) {
    return x0 + std::min(t_us, axis_max) / axis_max * plot_w;
  };
  const double lanes_bottom = kTop + static_cast<double>(drawn) * lane_h;
  const double height =
      lanes_bottom + kBottom + (drawn < lanes.size() ? 16 : 0);

  std::string svg = absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart timeline\" "
      "width=\"",
      SvgNum(width), "\" height=\"", SvgNum(height), "\" viewBox=\"0 0 ",
      SvgNum(width), " ", SvgNum(height),
      "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n"
      "<title>Watch events and VM restarts per host and scenario</title>\n");
  double lx = x0;
  for (int k = 0; k < kMarkerKinds; ++k) {
    const auto kind = static_cast<MarkerKind>(k);
    absl::StrAppend(&svg, Shape(kind, lx, 12, "legend", "", ""),
                    SvgText(lx + 8, 16, "", MarkerKindName(kind)));
    lx += 120;
  }
  if (downsampled) {
    absl::StrAppend(
        &svg,
        SvgText(x0, 34, " fill=\"#b71c1c\"",
                absl::StrCat("Lanes marked \xe2\x89\x88 are downsampled to at "
                             "most ",
                             cap,
                             " markers: one per kind and time bucket, "
                             "outlined (hover for counts).")));
  }
  for (size_t t = 0; t < ticks.size(); ++t) {
    const std::string x = SvgNum(X(ticks[t]));
    absl::StrAppend(
        &svg, "<line x1=\"", x, "\" y1=\"", kTop - 4, "\" x2=\"", x, "\" y2=\"",
        SvgNum(lanes_bottom + 4), "\" stroke=\"#e0e0e0\"/>\n",
        SvgText(X(ticks[t]), lanes_bottom + 16, " text-anchor=\"middle\"",
                FormatTick(ticks[t] / unit.divisor)));
  }
  absl::StrAppend(
      &svg, "<line x1=\"", SvgNum(x0), "\" y1=\"", SvgNum(lanes_bottom),
      "\" x2=\"", SvgNum(x0 + plot_w), "\" y2=\"", SvgNum(lanes_bottom),
      "\" stroke=\"#616161\"/>\n",
      SvgText(x0 + plot_w / 2, lanes_bottom + 34, " text-anchor=\"middle\"",
              absl::StrCat("time since scenario start (", unit.name, ")")));
  if (drawn == 0) {
    absl::StrAppend(&svg,
                    SvgText(x0, kTop + 12, " fill=\"#757575\"", "no hosts"));
  }
  for (size_t i = 0; i < drawn; ++i) {
    const Lane& lane = lanes[i];
    const double y0 = kTop + static_cast<double>(i) * lane_h,
                 yc = y0 + lane_h / 2.0;
    std::string summary = lane.label;
    if (lane.report != nullptr) {
      absl::StrAppend(&summary, ": ", ResultName(lane.report->result()), ", ",
                      FormatMillis(lane.report->duration_ms()), ", ",
                      entries[i], " events/restarts");
      if (marks[i].size() < entries[i]) {
        absl::StrAppend(&summary, " (downsampled to ", marks[i].size(),
                        " markers)");
      }
    } else {
      absl::StrAppend(&summary, ": ", lane.message);
    }
    absl::StrAppend(&svg, "<g class=\"lane\">\n<rect x=\"", SvgNum(x0),
                    "\" y=\"", SvgNum(y0), "\" width=\"", SvgNum(plot_w),
                    "\" height=\"", lane_h, "\" fill=\"",
                    lane.error ? "#fdecea" : (i % 2 ? "#f5f5f5" : "#fcfcfc"),
                    "\"><title>", XmlEscape(summary), "</title></rect>\n");
    if (lane.first_of_host && i > 0) {
      absl::StrAppend(&svg, "<line x1=\"4\" y1=\"", SvgNum(y0), "\" x2=\"",
                      SvgNum(x0 + plot_w), "\" y2=\"", SvgNum(y0),
                      "\" stroke=\"#bdbdbd\"/>\n");
    }
    const char* badge = lane.report != nullptr
                            ? ResultColor(lane.report->result())
                        : lane.error ? "#b71c1c"
                                     : "#bdbdbd";
    absl::StrAppend(
        &svg, "<rect x=\"", SvgNum(x0 - 10), "\" y=\"", SvgNum(y0 + 4),
        "\" width=\"6\" height=\"", lane_h - 8, "\" fill=\"", badge, "\"/>\n",
        SvgText(x0 - 14, y0 + lane_h * 0.7,
                lane.first_of_host ? " text-anchor=\"end\" font-weight=\"bold\""
                                   : " text-anchor=\"end\"",
                Ellipsize(lane.label, LabelFit(x0 - 20)), summary));
    if (lane.report == nullptr) {
      const size_t fit = static_cast<size_t>(std::max(10.0, plot_w / 6.2));
      absl::StrAppend(
          &svg, SvgText(x0 + 6, y0 + lane_h * 0.7,
                        lane.error ? " fill=\"#b71c1c\"" : " fill=\"#757575\"",
                        Ellipsize(lane.message, fit), lane.message));
    } else {
      absl::StrAppend(&svg, "<line x1=\"", SvgNum(x0), "\" y1=\"", SvgNum(yc),
                      "\" x2=\"", SvgNum(X(ReportSpanUs(*lane.report))),
                      "\" y2=\"", SvgNum(yc), "\" stroke=\"#9e9e9e\"/>\n");
    }
    for (const Mark& m : marks[i]) {
      const bool restart = m.kind == MarkerKind::kRestartOk ||
                           m.kind == MarkerKind::kRestartFailed;
      absl::StrAppend(
          &svg,
          Shape(m.kind, X(m.t_us), restart ? yc + 3 : yc - 3,
                absl::StrCat("mk mk-", MarkerClass(m.kind)),
                m.count > 1
                    ? absl::StrCat(" fill-opacity=\"0.85\" stroke=\"#000\" "
                                   "stroke-width=\"0.8\" data-n=\"",
                                   m.count, "\"")
                    : " fill-opacity=\"0.85\"",
                MarkTooltip(lane.label, m)),
          "\n");
    }
    if (marks[i].size() < entries[i]) {
      absl::StrAppend(
          &svg, SvgText(x0 + plot_w + 6, y0 + lane_h * 0.7, " fill=\"#b71c1c\"",
                        "\xe2\x89\x88", summary));
    }
    svg += "</g>\n";
  }
  if (drawn < lanes.size()) {
    absl::StrAppend(&svg, SvgText(x0, height - 4, " fill=\"#b71c1c\"",
                                  absl::StrCat(lanes.size() - drawn,
                                               " more lanes not drawn (limit ",
                                               options.max_lanes, ")")));
  }
  return svg + "</svg>\n";
}

}  // namespace xehil::lab
