#include "tools/lab/report/latency_chart.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/scenario/report_writer.h"

namespace xehil::lab {
namespace {

constexpr int kTop = 36;
constexpr int kBottom = 48;
constexpr int kRight = 80;  // "n=..." per row
constexpr int kMinExp = -2, kMaxExp = 12;

struct Row {
  std::string label;
  bool first_of_host = false;
  const Report* report = nullptr;  // null or count 0: "no samples"
};

bool Drawable(double v) { return std::isfinite(v) && v >= 0; }

std::vector<Row> BuildRows(const LabRun& run) {
  std::vector<Row> rows;
  for (const HostRun& host : run.hosts()) {
    const size_t first = rows.size();
    for (const Report& r : host.reports()) {
      if (r.latency().count() == 0) continue;
      std::string label = absl::StrCat(host.host(), " \xc2\xb7 ", r.scenario());
      if (r.repeat_index() > 0) absl::StrAppend(&label, " #", r.repeat_index());
      rows.push_back(Row{std::move(label), false, &r});
    }
    if (rows.size() == first) rows.push_back(Row{host.host(), false, nullptr});
    rows[first].first_of_host = true;
  }
  return rows;
}

std::string Summary(const std::string& label, const LatencySummary& l) {
  auto v = [](double x) { return Drawable(x) ? FormatMicros(x) : "invalid"; };
  return absl::StrCat(label, "\nn=", l.count(), "  p50 ", v(l.p50_us()),
                      "  p90 ", v(l.p90_us()), "  p99 ", v(l.p99_us()),
                      "  max ", v(l.max_us()));
}

}  // namespace

std::vector<double> DecadeTicks(const std::vector<double>& values) {
  double lo = 0, hi = 0;
  for (double v : values) {
    if (!std::isfinite(v) || v <= 0) continue;
    lo = lo == 0 ? v : std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (hi == 0) return {1, 10};
  int lo_exp = std::max(kMinExp, static_cast<int>(std::floor(std::log10(lo))));
  int hi_exp = std::min(kMaxExp, static_cast<int>(std::ceil(std::log10(hi))));
  lo_exp = std::min(lo_exp, kMaxExp - 1);
  if (hi_exp <= lo_exp) hi_exp = lo_exp + 1;
  std::vector<double> ticks;
  for (int e = lo_exp; e <= hi_exp; ++e) ticks.push_back(std::pow(10.0, e));
  return ticks;
}

std::string LatencySvg(const LabRun& run, const ChartOptions& options) {
  const std::vector<Row> rows = BuildRows(run);
  const size_t drawn = std::min(rows.size(), options.max_lanes);
  const int row_h = std::max(14, options.lane_height + 2);
  const double x0 = std::max(40, options.label_width);
  const double width = std::max<double>(options.width, x0 + kRight + 200);
  const double plot_w = width - kRight - x0;
  std::vector<double> values;
  for (size_t i = 0; i < drawn; ++i) {
    if (rows[i].report == nullptr) continue;
    const LatencySummary& l = rows[i].report->latency();
    values.insert(values.end(),
                  {l.p50_us(), l.p90_us(), l.p99_us(), l.max_us()});
  }
  const std::vector<double> ticks = DecadeTicks(values);
  const double llo = std::log10(ticks.front()), lhi = std::log10(ticks.back());
  auto X = [&](double us) {
    const double l = us > 0 ? std::log10(us) : llo;
    return x0 + (std::clamp(l, llo, lhi) - llo) / (lhi - llo) * plot_w;
  };
  const double rows_bottom = kTop + static_cast<double>(drawn) * row_h;
  const double height = rows_bottom + kBottom + (drawn < rows.size() ? 16 : 0);

  std::string svg = absl::StrCat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart latency\" "
      "width=\"",
      SvgNum(width), "\" height=\"", SvgNum(height), "\" viewBox=\"0 0 ",
      SvgNum(width), " ", SvgNum(height),
      "\" font-family=\"sans-serif\" font-size=\"11\" role=\"img\">\n"
      "<title>VM_ERR-to-restart latency per host and scenario</title>\n");
  // Legend: the glyphs as drawn in a row.
  const double ly = 12;
  absl::StrAppend(
      &svg, "<circle cx=\"", SvgNum(x0), "\" cy=\"", ly,
      "\" r=\"4\" fill=\"#1565c0\"/>", SvgText(x0 + 8, ly + 4, "", "p50"),
      "<line x1=\"", SvgNum(x0 + 60), "\" y1=\"6\" x2=\"", SvgNum(x0 + 60),
      "\" y2=\"18\" stroke=\"#0d47a1\" stroke-width=\"2\"/>",
      SvgText(x0 + 66, ly + 4, "", "p90"), "<path d=\"M", SvgNum(x0 + 120),
      ",7 L", SvgNum(x0 + 125), ",12 L", SvgNum(x0 + 120), ",17 L",
      SvgNum(x0 + 115), ",12 Z\" fill=\"#0d47a1\"/>",
      SvgText(x0 + 130, ly + 4, "", "p99"), "<path d=\"M", SvgNum(x0 + 176),
      ",8 L", SvgNum(x0 + 184), ",16 M", SvgNum(x0 + 176), ",16 L",
      SvgNum(x0 + 184), ",8\" stroke=\"#c62828\" stroke-width=\"2\"/>",
      SvgText(x0 + 190, ly + 4, "", "max"), "<rect x=\"", SvgNum(x0 + 236),
      "\" y=\"8\" width=\"24\" height=\"8\" fill=\"#90caf9\"/>",
      SvgText(x0 + 266, ly + 4, "", "p50 to p99"), "\n");
  // Gridlines: each decade, lighter at 2x and 5x.
  for (size_t t = 0; t < ticks.size(); ++t) {
    const std::string x = SvgNum(X(ticks[t]));
    absl::StrAppend(&svg, "<line x1=\"", x, "\" y1=\"", kTop - 4, "\" x2=\"", x,
                    "\" y2=\"", SvgNum(rows_bottom + 4),
                    "\" stroke=\"#bdbdbd\"/>\n",
                    SvgText(X(ticks[t]), rows_bottom + 16,
                            " text-anchor=\"middle\"", FormatTick(ticks[t])));
    for (double m : {2.0, 5.0}) {
      if (t + 1 == ticks.size()) break;
      const std::string xm = SvgNum(X(ticks[t] * m));
      absl::StrAppend(&svg, "<line x1=\"", xm, "\" y1=\"", kTop, "\" x2=\"", xm,
                      "\" y2=\"", SvgNum(rows_bottom),
                      "\" stroke=\"#eeeeee\"/>\n");
    }
  }
  absl::StrAppend(
      &svg, "<line x1=\"", SvgNum(x0), "\" y1=\"", SvgNum(rows_bottom),
      "\" x2=\"", SvgNum(x0 + plot_w), "\" y2=\"", SvgNum(rows_bottom),
      "\" stroke=\"#616161\"/>\n",
      SvgText(x0 + plot_w / 2, rows_bottom + 34, " text-anchor=\"middle\"",
              absl::StrCat("VM_ERR-to-restart latency (", kMicro,
                           "s, log scale)")));
  if (drawn == 0) {
    absl::StrAppend(&svg,
                    SvgText(x0, kTop + 12, " fill=\"#757575\"", "no hosts"));
  }
  for (size_t i = 0; i < drawn; ++i) {
    const Row& row = rows[i];
    const double y0 = kTop + static_cast<double>(i) * row_h,
                 yc = y0 + row_h / 2.0;
    const std::string summary =
        row.report != nullptr ? Summary(row.label, row.report->latency())
                              : absl::StrCat(row.label, ": no latency samples");
    absl::StrAppend(
        &svg, "<g class=\"lat-row\"><title>", XmlEscape(summary),
        "</title>\n<rect x=\"", SvgNum(x0), "\" y=\"", SvgNum(y0),
        "\" width=\"", SvgNum(plot_w), "\" height=\"", row_h, "\" fill=\"",
        i % 2 ? "#f5f5f5" : "#fcfcfc", "\"/>\n",
        SvgText(x0 - 8, y0 + row_h * 0.7,
                row.first_of_host ? " text-anchor=\"end\" font-weight=\"bold\""
                                  : " text-anchor=\"end\"",
                Ellipsize(row.label, LabelFit(x0 - 14))));
    if (row.report == nullptr) {
      absl::StrAppend(&svg,
                      SvgText(x0 + 6, y0 + row_h * 0.7, " fill=\"#757575\"",
                              "no latency samples"),
                      "</g>\n");
      continue;
    }
    const LatencySummary& l = row.report->latency();
    const std::string Y = SvgNum(yc);
    auto tip = [](const char* what, double v) {
      return absl::StrCat("<title>", what, " ", XmlEscape(FormatMicros(v)),
                          "</title>");
    };
    if (Drawable(l.p50_us()) && Drawable(l.max_us())) {
      absl::StrAppend(&svg, "<line x1=\"", SvgNum(X(l.p50_us())), "\" y1=\"", Y,
                      "\" x2=\"", SvgNum(X(l.max_us())), "\" y2=\"", Y,
                      "\" stroke=\"#90a4ae\" stroke-width=\"1.5\"/>\n");
    }
    if (Drawable(l.p50_us()) && Drawable(l.p99_us())) {
      const double a = X(l.p50_us()), b = X(l.p99_us());
      absl::StrAppend(&svg, "<rect x=\"", SvgNum(std::min(a, b)), "\" y=\"",
                      SvgNum(yc - 4), "\" width=\"", SvgNum(std::fabs(b - a)),
                      "\" height=\"8\" fill=\"#90caf9\"/>\n");
    }
    if (Drawable(l.p50_us())) {
      absl::StrAppend(&svg, "<circle class=\"p50\" cx=\"",
                      SvgNum(X(l.p50_us())), "\" cy=\"", Y,
                      "\" r=\"4\" fill=\"#1565c0\">", tip("p50", l.p50_us()),
                      "</circle>\n");
    }
    if (Drawable(l.p90_us())) {
      const std::string x = SvgNum(X(l.p90_us()));
      absl::StrAppend(&svg, "<line class=\"p90\" x1=\"", x, "\" y1=\"",
                      SvgNum(yc - 6), "\" x2=\"", x, "\" y2=\"", SvgNum(yc + 6),
                      "\" stroke=\"#0d47a1\" stroke-width=\"2\">",
                      tip("p90", l.p90_us()), "</line>\n");
    }
    if (Drawable(l.p99_us())) {
      const double x = X(l.p99_us());
      absl::StrAppend(&svg, "<path class=\"p99\" d=\"M", SvgNum(x), ",",
                      SvgNum(yc - 5), " L", SvgNum(x + 5), ",", Y, " L",
                      SvgNum(x), ",", SvgNum(yc + 5), " L", SvgNum(x - 5), ",",
                      Y, " Z\" fill=\"#0d47a1\">", tip("p99", l.p99_us()),
                      "</path>\n");
    }
    if (Drawable(l.max_us())) {
      const double x = X(l.max_us());
      absl::StrAppend(&svg, "<path class=\"max\" d=\"M", SvgNum(x - 4), ",",
                      SvgNum(yc - 4), " L", SvgNum(x + 4), ",", SvgNum(yc + 4),
                      " M", SvgNum(x - 4), ",", SvgNum(yc + 4), " L",
                      SvgNum(x + 4), ",", SvgNum(yc - 4),
                      "\" stroke=\"#c62828\" stroke-width=\"2\">",
                      tip("max", l.max_us()), "</path>\n");
    }
    absl::StrAppend(
        &svg,
        SvgText(x0 + plot_w + 6, y0 + row_h * 0.7, " fill=\"#616161\"",
                absl::StrCat("n=", FormatTick(l.count()))),
        "</g>\n");
  }
  if (drawn < rows.size()) {
    absl::StrAppend(&svg, SvgText(x0, height - 4, " fill=\"#b71c1c\"",
                                  absl::StrCat(rows.size() - drawn,
                                               " more rows not drawn (limit ",
                                               options.max_lanes, ")")));
  }
  return svg + "</svg>\n";
}

}  // namespace xehil::lab
