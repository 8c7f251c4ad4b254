#include "tools/xehil/demo.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "core/watch/record_decoder.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

TEST(Demo, RecoversEveryVmThroughEachPhase) {
  DemoOptions options;
  options.vms = 40;
  options.record_path =
      std::string(std::getenv("TEST_TMPDIR")) + "/demo_records.bin";
  std::ostringstream out;
  absl::StatusOr<DemoResult> result = RunDemo(options, out);
  ASSERT_TRUE(result.ok()) << result.status() << "\n" << out.str();
  EXPECT_TRUE(result->recovered()) << out.str();
  EXPECT_EQ(result->healthy, 40);

  const RecoveryEngine::Stats& s = result->engine;
  // The burst overflowed the 32-note ring: one loss record, one reconcile.
  EXPECT_GE(s.losses, 1u);
  EXPECT_GE(s.reconciles, 1u);
  EXPECT_GE(s.vm_errors, 32u);
  // The -EAGAIN phase: three -EAGAIN answers before the restart went through.
  EXPECT_GE(s.eagain_tries, 3u);
  EXPECT_EQ(s.restarts_failed, 0u);
  EXPECT_GT(s.latency.count, 0u);
  EXPECT_THAT(out.str(), HasSubstr("VMs healthy            40/40"));

  // --record kept every byte the listener read, in order.
  std::ifstream in(options.record_path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.size(), result->bytes_read);
  RecordDecoder decoder;
  std::vector<WatchEvent> events;
  decoder.Feed(bytes, &events);
  EXPECT_EQ(events.size(), result->records_read);
  EXPECT_EQ(decoder.stats().malformed, 0u);
}

TEST(Demo, RejectsAnUnknownProfile) {
  DemoOptions options;
  options.profile = "no-such-gpu";
  std::ostringstream out;
  absl::StatusOr<DemoResult> result = RunDemo(options, out);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
}

TEST(Demo, RejectsAnUnwritableRecordPath) {
  DemoOptions options;
  options.record_path = "/nonexistent-dir/records.bin";
  std::ostringstream out;
  EXPECT_EQ(RunDemo(options, out).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace xehil
