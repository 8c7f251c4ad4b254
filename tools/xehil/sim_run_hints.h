// What `xehil sim-run` can tell about a program's listener from outside: the
// interposer reports each notification pipe the program misused
// (XEHIL_PRELOAD_REPORT, see sim/preload/preload_internal.h), and this turns
// those reports into one hint line each.
//
//   for (const std::string& hint : ListenerHints(report_text)) err << hint;
#ifndef XEHIL_TOOLS_XEHIL_SIM_RUN_HINTS_H_
#define XEHIL_TOOLS_XEHIL_SIM_RUN_HINTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace xehil {

// Environment variable naming the file the interposer appends reports to.
inline constexpr char kPreloadReportEnv[] = "XEHIL_PRELOAD_REPORT";

// poll()/read() answers of POLLHUP/EOF on one pipe before sim-run calls it
// a spinning loop (a listener that reads EOF once and stops is fine).
inline constexpr uint64_t kSpinAnswers = 10;

// One report line of the interposer.
struct PipeReport {
  uint64_t pipe_id = 0;
  int64_t pid = 0;
  uint64_t hangups = 0;
  uint64_t first_ns = 0;
  uint64_t last_ns = 0;
  bool loss_owed = false;
};

// Parses the interposer's lines; malformed lines are skipped.
std::vector<PipeReport> ParsePipeReports(absl::string_view text);

// One line ("xehil sim-run: hint: ...\n") per listener bug seen in `text`.
std::vector<std::string> ListenerHints(absl::string_view text);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_SIM_RUN_HINTS_H_
