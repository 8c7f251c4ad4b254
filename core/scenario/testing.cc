#include "core/scenario/testing.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "core/scenario/report_writer.h"

namespace xehil {
namespace {

class ResultMatcher : public ::testing::MatcherInterface<const Report&> {
 public:
  explicit ResultMatcher(Result want) : want_(want) {}

  bool MatchAndExplain(
      const Report& report,
      ::testing::MatchResultListener* listener) const override {
    *listener << "scenario '" << report.scenario() << "' ended "
              << ResultName(report.result());
    if (!report.reason().empty()) *listener << ": " << report.reason();
    for (const ExpectationResult& e : report.expectations()) {
      if (e.result() != RESULT_PASS) {
        *listener << "\n  " << ResultName(e.result()) << " " << e.name() << ": "
                  << e.message();
      }
    }
    for (const std::string& step : report.skipped_steps()) {
      *listener << "\n  skipped " << step;
    }
    const int entries = report.timeline_size();
    if (entries > 0) {
      const int first = std::max(0, entries - kTimelineTail);
      *listener << "\n  timeline, last " << entries - first << " of " << entries
                << " entries:";
      for (int i = first; i < entries; ++i) {
        const TimelineEntry& t = report.timeline(i);
        *listener << "\n    " << t.t_us() << " us " << t.kind();
        if (!t.file().empty()) *listener << " " << t.file();
        if (t.vm_id() != 0) *listener << " vm=" << t.vm_id();
        if (!t.detail().empty()) *listener << " " << t.detail();
        if (t.error() != 0) *listener << " error=" << t.error();
      }
    }
    return report.result() == want_;
  }

  void DescribeTo(std::ostream* os) const override {
    *os << "is a scenario report with result " << ResultName(want_);
  }
  void DescribeNegationTo(std::ostream* os) const override {
    *os << "is a scenario report with a result other than "
        << ResultName(want_);
  }

 private:
  const Result want_;
};

}  // namespace

std::string RunfilesPath(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (srcdir == nullptr || workspace == nullptr) return path;
  return absl::StrCat(srcdir, "/", workspace, "/", path);
}

::testing::Matcher<const Report&> ScenarioPassed() {
  return ::testing::MakeMatcher(new ResultMatcher(RESULT_PASS));
}

::testing::Matcher<const Report&> ScenarioResultIs(Result result) {
  return ::testing::MakeMatcher(new ResultMatcher(result));
}

void PrintTo(const Report& report, std::ostream* os) {
  *os << "Report{scenario '" << report.scenario() << "' "
      << ResultName(report.result()) << ", " << report.expectations_size()
      << " expectations, " << report.timeline_size() << " timeline entries}";
}

}  // namespace xehil
