// Entries map to the right marker kinds; downsampling respects the cap,
// keeps every kind that occurs, and accounts for every entry.
#include "tools/lab/report/timeline_marks.h"

#include <cstdint>
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/lab/report/sample_lab_run.h"

namespace xehil::lab {
namespace {

using ::testing::HasSubstr;

TimelineEntry Entry(const char* kind, const char* detail, int32_t error = 0) {
  TimelineEntry e;
  e.set_kind(kind);
  e.set_detail(detail);
  e.set_error(error);
  return e;
}

TEST(ClassifyEntry, SeparatesErrorsLossesAndRestartOutcomes) {
  EXPECT_EQ(ClassifyEntry(Entry("event", "VM_ERR vm=3 error=-ENOMEM")),
            MarkerKind::kVmError);
  EXPECT_EQ(ClassifyEntry(Entry("event", "LOST")), MarkerKind::kLoss);
  EXPECT_EQ(ClassifyEntry(Entry("event", "REMOVED watch=1")),
            MarkerKind::kOtherEvent);
  EXPECT_EQ(ClassifyEntry(Entry("restart", "ok")), MarkerKind::kRestartOk);
  EXPECT_EQ(ClassifyEntry(Entry("restart", "x", -12)),
            MarkerKind::kRestartFailed);
  EXPECT_EQ(ClassifyEntry(Entry("step", "VM_ERR lookalike")), std::nullopt);
  EXPECT_EQ(ClassifyEntry(Entry("note", "")), std::nullopt);
}

TEST(ReportMarks, KeepsEveryEntryUnderTheCap) {
  const Report r = SyntheticReport("s", RESULT_PASS, 10, 2, 3, 1);
  size_t entries = 0;
  const std::vector<Mark> marks = ReportMarks(r, 400, &entries);
  EXPECT_EQ(entries, 22u);  // 10 VM_ERR + 10 restarts + 2 LOST
  ASSERT_EQ(marks.size(), 22u);
  for (const Mark& m : marks) EXPECT_EQ(m.count, 1u);
  EXPECT_THAT(MarkTooltip("h · s", marks[0]), HasSubstr("VM_ERR event"));
}

TEST(ReportMarks, DownsamplesToTheCapAndAccountsForEveryEntry) {
  const Report r = SyntheticReport("s", RESULT_PASS, 20000, 30, 5, 2);
  size_t entries = 0;
  const std::vector<Mark> marks = ReportMarks(r, 100, &entries);
  EXPECT_EQ(entries, 40030u);
  EXPECT_LE(marks.size(), 100u);
  std::map<MarkerKind, size_t> per_kind;
  size_t total = 0;
  for (const Mark& m : marks) {
    per_kind[m.kind] += m.count;
    total += m.count;
    EXPECT_LE(m.t_us, m.last_us);
  }
  EXPECT_EQ(total, entries);
  EXPECT_EQ(per_kind[MarkerKind::kVmError], 20000u);
  EXPECT_EQ(per_kind[MarkerKind::kRestartFailed], 4000u);
  EXPECT_EQ(per_kind[MarkerKind::kRestartOk], 16000u);
  EXPECT_EQ(per_kind[MarkerKind::kLoss], 30u);
  const Mark& bucket = *std::find_if(marks.begin(), marks.end(),
                                     [](const Mark& m) { return m.count > 1; });
  EXPECT_THAT(MarkTooltip("lane", bucket), HasSubstr("(downsampled)"));
}

TEST(ReportSpanUs, IsTheDurationOrTheLastEntry) {
  Report r;
  r.set_duration_ms(5);
  EXPECT_EQ(ReportSpanUs(r), 5000);
  r.add_timeline()->set_t_us(9000);
  EXPECT_EQ(ReportSpanUs(r), 9000);
}

}  // namespace
}  // namespace xehil::lab
