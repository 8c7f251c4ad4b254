#include "tools/lab/report/timeline_marks.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "tools/lab/report/chart_util.h"

namespace xehil::lab {

std::optional<MarkerKind> ClassifyEntry(const TimelineEntry& entry) {
  if (entry.kind() == "restart") {
    return entry.error() == 0 ? MarkerKind::kRestartOk
                              : MarkerKind::kRestartFailed;
  }
  if (entry.kind() != "event") return std::nullopt;
  if (absl::StartsWith(entry.detail(), "VM_ERR")) return MarkerKind::kVmError;
  if (absl::StartsWith(entry.detail(), "LOST")) return MarkerKind::kLoss;
  return MarkerKind::kOtherEvent;
}

const char* MarkerClass(MarkerKind kind) {
  switch (kind) {
    case MarkerKind::kVmError:
      return "vmerr";
    case MarkerKind::kLoss:
      return "loss";
    case MarkerKind::kOtherEvent:
      return "event";
    case MarkerKind::kRestartOk:
      return "restart";
    case MarkerKind::kRestartFailed:
      return "restart-failed";
  }
  return "event";
}

const char* MarkerKindName(MarkerKind kind) {
  switch (kind) {
    case MarkerKind::kVmError:
      return "VM_ERR event";
    case MarkerKind::kLoss:
      return "records lost";
    case MarkerKind::kOtherEvent:
      return "other event";
    case MarkerKind::kRestartOk:
      return "restart ok";
    case MarkerKind::kRestartFailed:
      return "restart failed";
  }
  return "?";
}

double ReportSpanUs(const Report& r) {
  double span = static_cast<double>(r.duration_ms()) * 1000.0;
  for (const TimelineEntry& e : r.timeline()) {
    span = std::max(span, static_cast<double>(e.t_us()));
  }
  return span;
}

std::vector<Mark> ReportMarks(const Report& r, size_t cap, size_t* entries) {
  std::vector<Mark> marks;
  for (const TimelineEntry& e : r.timeline()) {
    if (std::optional<MarkerKind> kind = ClassifyEntry(e)) {
      const double t = static_cast<double>(e.t_us());
      marks.push_back(Mark{t, t, *kind, 1, &e});
    }
  }
  *entries = marks.size();
  if (marks.size() <= cap) return marks;
  bool present[kMarkerKinds] = {};
  for (const Mark& m : marks) present[static_cast<int>(m.kind)] = true;
  const size_t kinds = std::count(present, present + kMarkerKinds, true);
  const size_t bins = std::max<size_t>(1, cap / kinds);
  const double span = std::max(1.0, ReportSpanUs(r));
  std::vector<Mark> buckets(bins * kMarkerKinds);
  for (const Mark& m : marks) {
    const size_t bin =
        std::min(bins - 1, static_cast<size_t>(m.t_us / span * bins));
    Mark& b = buckets[bin * kMarkerKinds + static_cast<int>(m.kind)];
    if (b.count == 0 || m.t_us < b.t_us) {
      b.t_us = m.t_us;
      b.first = m.first;
    }
    b.last_us = b.count == 0 ? m.t_us : std::max(b.last_us, m.t_us);
    b.kind = m.kind;
    ++b.count;
  }
  marks.clear();
  for (const Mark& b : buckets) {
    if (b.count > 0) marks.push_back(b);
  }
  return marks;
}

std::string MarkTooltip(absl::string_view lane, const Mark& m) {
  const TimelineEntry& e = *m.first;
  std::string where;
  if (!e.file().empty()) absl::StrAppend(&where, "file '", e.file(), "' ");
  if (e.vm_id() != 0) absl::StrAppend(&where, "vm ", e.vm_id(), " ");
  if (e.error() != 0) absl::StrAppend(&where, DescribeErrno(e.error()));
  if (m.count == 1) {
    return absl::StrCat(lane, "\n", FormatMicros(m.t_us), ": ",
                        MarkerKindName(m.kind), "\n", e.detail(),
                        where.empty() ? "" : "\n", where);
  }
  return absl::StrCat(lane, "\n", m.count, " x ", MarkerKindName(m.kind),
                      " from ", FormatMicros(m.t_us), " to ",
                      FormatMicros(m.last_us),
                      " (downsampled)\nfirst: ", e.detail());
}

}  // namespace xehil::lab
