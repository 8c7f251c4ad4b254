// Which timeline entries of a report become markers on the lab timeline, and
// how a lane with too many of them is downsampled so a huge timeline (100k
// events) still makes a page a browser opens quickly.
//
//   size_t entries = 0;
//   std::vector<Mark> marks = ReportMarks(report, /*cap=*/400, &entries);
//   // marks.size() <= 400; the counts of the marks add up to `entries`.
#ifndef XEHIL_TOOLS_LAB_REPORT_TIMELINE_MARKS_H_
#define XEHIL_TOOLS_LAB_REPORT_TIMELINE_MARKS_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/scenario.pb.h"

namespace xehil::lab {

enum class MarkerKind {
  kVmError,        // event "VM_ERR ..."
  kLoss,           // event "LOST": records were dropped
  kOtherEvent,     // REMOVED, UNKNOWN, anything else of kind "event"
  kRestartOk,      // restart with error == 0
  kRestartFailed,  // restart that returned an errno (benign ones included)
};
inline constexpr int kMarkerKinds = 5;

// The marker for a timeline entry; nullopt for steps and notes (not drawn).
std::optional<MarkerKind> ClassifyEntry(const TimelineEntry& entry);

// "vmerr", "loss", "event", "restart", "restart-failed": the CSS class suffix.
const char* MarkerClass(MarkerKind kind);

// "VM_ERR event", "records lost", ...: for legends and tooltips.
const char* MarkerKindName(MarkerKind kind);

// A drawn marker: one entry, or (downsampled) `count` entries of one kind
// from t_us to last_us. `first` points into the report.
struct Mark {
  double t_us = 0;
  double last_us = 0;
  MarkerKind kind = MarkerKind::kOtherEvent;
  size_t count = 0;
  const TimelineEntry* first = nullptr;
};

// How far the report's lane reaches: its duration or its last entry, in µs.
double ReportSpanUs(const Report& report);

// Every marker of `report` (one per event or restart entry), or, when there
// are more than `cap`, at most `cap`: the lane is cut into cap / kinds time
// buckets and each kind present in a bucket gets one mark at its earliest
// entry. *entries gets the number of entries drawn or summarised.
std::vector<Mark> ReportMarks(const Report& report, size_t cap,
                              size_t* entries);

// The tooltip: the lane, time, kind, detail, file, VM and errno of a single
// entry, or the count and time span of a downsampled mark. Unescaped.
std::string MarkTooltip(absl::string_view lane, const Mark& mark);

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_REPORT_TIMELINE_MARKS_H_
