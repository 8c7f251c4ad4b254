#include "tools/xehil/sim_run_hints.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace xehil {
namespace {

bool ParseLine(absl::string_view line, PipeReport* report) {
  int fields = 0;
  for (absl::string_view field : absl::StrSplit(line, ' ', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(field, absl::MaxSplits('=', 1));
    uint64_t value = 0;
    if (!absl::SimpleAtoi(kv.second, &value)) return false;
    if (kv.first == "pipe") {
      report->pipe_id = value;
    } else if (kv.first == "pid") {
      report->pid = static_cast<int64_t>(value);
    } else if (kv.first == "hangups") {
      report->hangups = value;
    } else if (kv.first == "first_ns") {
      report->first_ns = value;
    } else if (kv.first == "last_ns") {
      report->last_ns = value;
    } else if (kv.first == "loss_owed") {
      report->loss_owed = value != 0;
    } else {
      continue;
    }
    ++fields;
  }
  return fields == 6;
}

}  // namespace

std::vector<PipeReport> ParsePipeReports(absl::string_view text) {
  std::vector<PipeReport> reports;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    PipeReport report;
    if (ParseLine(line, &report)) reports.push_back(report);
  }
  return reports;
}

std::vector<std::string> ListenerHints(absl::string_view text) {
  std::vector<std::string> hints;
  for (const PipeReport& r : ParsePipeReports(text)) {
    if (r.hangups >= kSpinAnswers) {
      const double seconds =
          r.last_ns > r.first_ns
              ? static_cast<double>(r.last_ns - r.first_ns) / 1e9
              : 0.0;
      const std::string rate =
          seconds > 0
              ? absl::StrFormat(" (%.0f/s)",
                                static_cast<double>(r.hangups) / seconds)
              : "";
      hints.push_back(absl::StrCat(
          "xehil sim-run: hint: pid ", r.pid, " got POLLHUP/EOF at once ",
          r.hangups, " times", rate, " on notification pipe ", r.pipe_id,
          " after closing its last write end: on a kernel that loop spins "
          "for ever. Keep the write end open while listening: the kernel "
          "posts records without one, so EOF is not the end of the stream "
          "as it is on a plain pipe.\n"));
    }
    if (r.loss_owed) {
      hints.push_back(absl::StrCat(
          "xehil sim-run: hint: pid ", r.pid,
          " left a loss record unread on notification pipe ", r.pipe_id,
          ", so the VMs whose VM_ERR records were dropped were never "
          "reconciled. Read until EAGAIN after every wake-up: the kernel "
          "makes the loss record up in the read() after the one that "
          "emptied the ring, and poll() does not report it.\n"));
    }
  }
  return hints;
}

}  // namespace xehil
