// LabRunToHtml: one self-contained page (inline CSS and SVG, no scripts).
// Written as well-formed XML (void elements closed, only XML's five named
// entities) so both HTML and XML tools read it.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/scenario/report_writer.h"
#include "tools/lab/report/chart_util.h"
#include "tools/lab/report/lab_report.h"
#include "tools/lab/report/latency_chart.h"
#include "tools/lab/report/timeline_chart.h"

namespace xehil::lab {
namespace {

// No '<' or '&' in here: the page is also read as XML.
constexpr char kCss[] = R"css(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#212121}
h1{font-size:22px;margin:0 0 8px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e0e0e0}
h3{font-size:16px;margin:20px 0 4px}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}
dl.meta dt{color:#616161}
dl.meta dd{margin:0}
ol{margin:0;padding-left:20px}
.badge{display:inline-block;padding:0 8px;border-radius:9px;color:#fff;font-size:12px;font-weight:bold}
.r-pass{background:#2e7d32}.r-fail{background:#c62828}.r-skip{background:#757575}
.r-timeout{background:#ef6c00}.r-incomplete{background:#6a1b9a}.r-unspecified{background:#9e9e9e}
.r-unreachable{background:#b71c1c}.r-none{background:#bdbdbd}
table{border-collapse:collapse;font-size:13px}
th,td{border:1px solid #e0e0e0;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.zero{color:#bdbdbd}
td.c-fail,td.c-timeout,td.c-incomplete{color:#c62828;font-weight:bold}
td.c-pass{color:#2e7d32}
tr.host-row td:first-child{border-left:5px solid #2e7d32}
tr.st-fail td:first-child{border-left-color:#c62828}
tr.st-unreachable td:first-child,tr.st-unreachable td.err{border-left-color:#b71c1c}
tr.st-unreachable{background:#fdecea}
tr.st-fail{background:#fff5f5}
tr.st-skip td:first-child,tr.st-none td:first-child{border-left-color:#9e9e9e}
.err{color:#b71c1c}
.muted{color:#757575}
.label{background:#eceff1;border-radius:3px;padding:0 4px;margin-right:3px;font-size:12px}
figure{margin:0 0 8px;overflow-x:auto}
figcaption{color:#616161;font-size:12px}
details{margin:4px 0 8px;border:1px solid #e0e0e0;border-radius:4px;padding:4px 8px}
summary{cursor:pointer}
)css";

std::string E(absl::string_view text) { return XmlEscape(text); }

struct HostStats {
  int by_result[RESULT_INCOMPLETE + 1] = {};
  uint64_t tried = 0, succeeded = 0, failed = 0, vm_errors = 0, losses = 0;
  double p50 = -1, p99 = -1;  // worst over reports with samples; -1: none
};

HostStats Stats(const HostRun& host) {
  HostStats s;
  for (const Report& r : host.reports()) {
    const int result =
        r.result() >= 0 && r.result() <= RESULT_INCOMPLETE ? r.result() : 0;
    ++s.by_result[result];
    s.tried += r.restarts().tried();
    s.succeeded += r.restarts().succeeded();
    s.failed += r.restarts().failed();
    s.vm_errors += r.events().vm_errors();
    s.losses += r.events().losses();
    if (r.latency().count() > 0) {
      s.p50 = std::max(s.p50, r.latency().p50_us());
      s.p99 = std::max(s.p99, r.latency().p99_us());
    }
  }
  return s;
}

// "unreachable", "fail", "skip", "none" or "pass": row colour and badge.
std::string HostStatus(const HostRun& host, const HostStats& s) {
  if (!host.error().empty() && host.reports().empty()) return "unreachable";
  if (!host.error().empty() || s.by_result[RESULT_FAIL] ||
      s.by_result[RESULT_TIMEOUT] || s.by_result[RESULT_INCOMPLETE]) {
    return "fail";
  }
  if (host.reports().empty()) return "none";
  if (s.by_result[RESULT_SKIP] == host.reports_size()) return "skip";
  return "pass";
}

std::string Badge(absl::string_view cls, absl::string_view text) {
  return absl::StrCat("<span class=\"badge r-", cls, "\">", E(text), "</span>");
}

std::string Num(uint64_t n, const char* colour_class = "") {
  return absl::StrCat("<td class=\"n", n == 0 ? " zero" : "",
                      n > 0 && *colour_class ? " " : "",
                      n > 0 ? colour_class : "", "\">", n, "</td>");
}

std::string Labels(const HostRun& host) {
  std::string out;
  for (const std::string& l : host.labels()) {
    absl::StrAppend(&out, "<span class=\"label\">", E(l), "</span>");
  }
  return out;
}

std::string Header(const LabRun& run) {
  int hosts_down = 0, results[RESULT_INCOMPLETE + 1] = {}, reports = 0;
  bool failing = false;
  for (const HostRun& host : run.hosts()) {
    const HostStats s = Stats(host);
    hosts_down += !host.error().empty() && host.reports().empty();
    failing |=
        HostStatus(host, s) == "fail" || HostStatus(host, s) == "unreachable";
    for (int r = 0; r <= RESULT_INCOMPLETE; ++r) results[r] += s.by_result[r];
    reports += host.reports_size();
  }
  std::string verdict = failing                           ? "FAIL"
                        : reports == 0                    ? "NO RESULTS"
                        : results[RESULT_SKIP] == reports ? "SKIP"
                                                          : "PASS";
  std::vector<std::string> counts;
  for (int r = RESULT_PASS; r <= RESULT_INCOMPLETE + 1; ++r) {
    const int i = r % (RESULT_INCOMPLETE + 1);  // UNSPECIFIED last
    if (results[i] > 0) {
      counts.push_back(
          absl::StrCat(results[i], " ", ResultName(static_cast<Result>(i))));
    }
  }
  std::string scenarios;
  for (const std::string& s : run.scenarios())
    absl::StrAppend(&scenarios, "<li>", E(s), "</li>");
  const std::string cls = verdict == "FAIL"   ? "fail"
                          : verdict == "PASS" ? "pass"
                          : verdict == "SKIP" ? "skip"
                                              : "none";
  return absl::StrCat(
      "<header>\n<h1>xehil-lab run ", Badge(cls, verdict),
      "</h1>\n<dl class=\"meta\">\n", "<dt>Started</dt><dd>",
      FormatUnixMs(run.started_unix_ms()), "</dd>\n", "<dt>Duration</dt><dd>",
      FormatMillis(run.duration_ms()), "</dd>\n", "<dt>Inventory</dt><dd>",
      run.inventory().empty() ? "-" : E(run.inventory()), "</dd>\n",
      "<dt>Selector</dt><dd>",
      run.selector().empty() ? "(all hosts)" : E(run.selector()),
      "</dd>\n<dt>Hosts</dt><dd>", run.hosts_size(), " (", hosts_down,
      " unreachable)</dd>\n", "<dt>Reports</dt><dd>", reports,
      counts.empty() ? "" : ": ", absl::StrJoin(counts, ", "),
      "</dd>\n<dt>Scenarios</dt><dd>",
      scenarios.empty() ? "-" : absl::StrCat("<ol>", scenarios, "</ol>"),
      "</dd>\n</dl>\n</header>\n");
}

std::string HostTable(const LabRun& run) {
  std::string out =
      "<h2>Hosts</h2>\n<table "
      "class=\"hosts\">\n<thead><tr><th>Host</th><th>Address</th>"
      "<th>Labels</th><th>Backend</th><th>Device</th><th>PASS</th><th>FAIL</th>"
      "<th>SKIP</th><th>TIMEOUT</th><th>INCOMPLETE</th>"
      "<th title=\"tried / succeeded / failed\">Restarts</th><th>VM errors</th>"
      "<th>Losses</th>"
      "<th title=\"highest p50 among this host's scenarios\">Worst scenario "
      "p50</th><th title=\"highest p99 among this host's scenarios\">Worst "
      "scenario p99</th><th>Attempts</th><th>Duration</"
      "th>"
      "<th>Error</th></tr></thead>\n<tbody>\n";
  for (int i = 0; i < run.hosts_size(); ++i) {
    const HostRun& h = run.hosts(i);
    const HostStats s = Stats(h);
    absl::StrAppend(&out, "<tr class=\"host-row st-", HostStatus(h, s),
                    "\"><td><a href=\"#host-", i, "\">", E(h.host()),
                    "</a></td><td>", E(h.address()), "</td><td>", Labels(h),
                    "</td><td>", E(h.backend()), "</td><td>", E(h.device()),
                    "</td>", Num(s.by_result[RESULT_PASS], "c-pass"),
                    Num(s.by_result[RESULT_FAIL], "c-fail"),
                    Num(s.by_result[RESULT_SKIP]),
                    Num(s.by_result[RESULT_TIMEOUT], "c-timeout"),
                    Num(s.by_result[RESULT_INCOMPLETE], "c-incomplete"));
    absl::StrAppend(
        &out, "<td class=\"n\">", s.tried, " / ", s.succeeded, " / ", s.failed,
        "</td>", Num(s.vm_errors), Num(s.losses, "c-fail"), "<td class=\"n\">",
        s.p50 < 0 ? "-" : E(FormatMicros(s.p50)), "</td><td class=\"n\">",
        s.p99 < 0 ? "-" : E(FormatMicros(s.p99)), "</td>", Num(h.attempts()),
        "<td class=\"n\">", FormatMillis(h.duration_ms()),
        "</td><td class=\"err\">", E(h.error()), "</td></tr>\n");
  }
  if (run.hosts_size() == 0) {
    out +=
        "<tr><td colspan=\"18\" class=\"muted\">No hosts in this "
        "run.</td></tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::string ReportDetails(const Report& r) {
  std::string out = absl::StrCat(
      "<details", r.result() == RESULT_PASS ? "" : " open=\"open\"",
      "><summary>", Badge(ResultClass(r.result()), ResultName(r.result())),
      " <b>", E(r.scenario()), "</b> <span class=\"muted\">",
      FormatMillis(r.duration_ms()), ", ", E(r.source()), ", ", E(r.backend()),
      ", policy ", E(r.policy()), ", seed ", r.seed(),
      r.repeat_index() > 0 ? absl::StrCat(", repeat ", r.repeat_index()) : "",
      "</span></summary>\n");
  if (!r.reason().empty())
    absl::StrAppend(&out, "<p>", E(r.reason()), "</p>\n");
  if (r.expectations().empty()) {
    out += "<p class=\"muted\">No expectations.</p>\n";
  } else {
    out +=
        "<table class=\"exp\"><thead><tr><th>Verdict</th><th>Expectation</th>"
        "<th>Detail</th></tr></thead><tbody>\n";
    for (const ExpectationResult& e : r.expectations()) {
      absl::StrAppend(&out, "<tr><td>",
                      Badge(ResultClass(e.result()), ResultName(e.result())),
                      "</td><td>", E(e.name()), "</td><td>", E(e.message()),
                      "</td></tr>\n");
    }
    out += "</tbody></table>\n";
  }
  const RestartCounts& rc = r.restarts();
  const EventCounts& ev = r.events();
  const LatencySummary& l = r.latency();
  absl::StrAppend(
      &out, "<p class=\"muted\">Events: VM_ERR ", ev.vm_errors(), ", lost ",
      ev.losses(), ", removed ", ev.removals(), ", unknown ", ev.unknowns(),
      ". Restarts: tried ", rc.tried(), ", succeeded ", rc.succeeded(),
      ", failed ", rc.failed(), ", benign ", rc.benign(), ", -EAGAIN ",
      rc.eagain_tries(), ", reconciles ", rc.reconciles(), ", coalesced ",
      rc.coalesced(), ", reported ", rc.reported(), ", given up ",
      rc.given_up(), ". Latency: ",
      l.count() == 0
          ? "no samples"
          : E(absl::StrCat("n=", l.count(), ", p50 ", FormatMicros(l.p50_us()),
                           ", p90 ", FormatMicros(l.p90_us()), ", p99 ",
                           FormatMicros(l.p99_us()), ", max ",
                           FormatMicros(l.max_us()))),
      ".</p>\n");
  for (const std::string& s : r.skipped_steps()) {
    absl::StrAppend(&out, "<p class=\"muted\">Skipped step: ", E(s), "</p>\n");
  }
  return out + "</details>\n";
}

// "10.0.4.11:50051 [labels] xe (device), 1 attempt(s), 21.4 s"
std::string HostFacts(const HostRun& h) {
  std::string out = absl::StrCat(E(h.address()), " ", Labels(h));
  if (!h.backend().empty()) absl::StrAppend(&out, " ", E(h.backend()));
  if (!h.device().empty()) absl::StrAppend(&out, " (", E(h.device()), ")");
  return absl::StrCat(out, ", ", h.attempts(), " attempt(s), ",
                      FormatMillis(h.duration_ms()));
}

std::string HostDetails(const LabRun& run) {
  std::string out = "<h2>Details</h2>\n";
  for (int i = 0; i < run.hosts_size(); ++i) {
    const HostRun& h = run.hosts(i);
    const std::string status = HostStatus(h, Stats(h));
    absl::StrAppend(&out, "<section class=\"host\" id=\"host-", i, "\">\n<h3>",
                    E(h.host()), " ",
                    Badge(status, absl::AsciiStrToUpper(status)),
                    "</h3>\n<p class=\"muted\">", HostFacts(h), "</p>\n");
    if (!h.error().empty())
      absl::StrAppend(&out, "<p class=\"err\">Error: ", E(h.error()), "</p>\n");
    if (h.reports().empty()) out += "<p class=\"muted\">No reports.</p>\n";
    for (const Report& r : h.reports()) out += ReportDetails(r);
    out += "</section>\n";
  }
  return out;
}

}  // namespace

std::string LabRunToHtml(const LabRun& run) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
      "<meta name=\"viewport\" content=\"width=device-width, "
      "initial-scale=1\"/>\n"
      "<title>xehil-lab run, ",
      run.hosts_size(), " hosts, ", FormatUnixMs(run.started_unix_ms()),
      "</title>\n<style>", kCss, "</style>\n</head>\n<body>\n", Header(run),
      HostTable(run), "<h2>Timeline</h2>\n<figure>\n", TimelineSvg(run),
      "<figcaption>One lane per host and scenario; x is the time since that "
      "scenario "
      "started. Hover a marker for its detail.</figcaption>\n</figure>\n"
      "<h2>Latency</h2>\n<figure>\n",
      LatencySvg(run),
      "<figcaption>Per host and scenario: VM_ERR-to-restart latency "
      "percentiles, log "
      "scale. Hover for the numbers.</figcaption>\n</figure>\n",
      HostDetails(run), "</body>\n</html>\n");
}

}  // namespace xehil::lab
