#include "core/metrics/latency_histogram.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

TEST(LatencyHistogram, EmptyReportsZeros) {
  LatencyHistogram h;
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.min_ns, 0);
  EXPECT_EQ(s.max_ns, 0);
  EXPECT_EQ(s.p99_ns, 0);
  EXPECT_EQ(h.Percentile(50), 0);
  EXPECT_EQ(h.ToString(), "n=0");
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (int64_t v = 1; v <= 10; ++v) h.Record(v);
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, 10u);
  EXPECT_EQ(s.min_ns, 1);
  EXPECT_EQ(s.max_ns, 10);
  EXPECT_DOUBLE_EQ(s.mean_ns, 5.5);
  EXPECT_EQ(s.p50_ns, 5);
  EXPECT_EQ(s.p90_ns, 9);
  EXPECT_EQ(s.p99_ns, 10);
  EXPECT_EQ(h.Percentile(0), 1);
  EXPECT_EQ(h.Percentile(100), 10);
}

TEST(LatencyHistogram, SingleSampleIsEveryPercentile) {
  LatencyHistogram h;
  h.Record(123'456'789);
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.p50_ns, 123'456'789);
  EXPECT_EQ(s.p90_ns, 123'456'789);
  EXPECT_EQ(s.p99_ns, 123'456'789);
  EXPECT_EQ(s.min_ns, 123'456'789);
  EXPECT_EQ(s.max_ns, 123'456'789);
}

TEST(LatencyHistogram, PercentilesOfUniformSamplesWithinBucketPrecision) {
  LatencyHistogram h;
  // 1 us .. 10 ms in 1 us steps, shuffled order does not matter.
  for (int64_t us = 10'000; us >= 1; --us) h.Record(us * 1000);
  for (double p : {1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9}) {
    const double truth = std::ceil(p / 100.0 * 10'000) * 1000;
    const double got = static_cast<double>(h.Percentile(p));
    EXPECT_GE(got, truth) << "p" << p;
    EXPECT_LE(got, truth * (1.0 + 1.0 / 16)) << "p" << p;
  }
  EXPECT_EQ(h.Percentile(100), 10'000'000);
  EXPECT_NEAR(h.Summarize().mean_ns, 5'000'500.0, 1e-3);
}

TEST(LatencyHistogram, SkewedDistributionTailIsSeen) {
  LatencyHistogram h;
  for (int i = 0; i < 980; ++i) h.Record(1'000);      // 98 %: 1 us
  for (int i = 0; i < 20; ++i) h.Record(50'000'000);  // 2 %: 50 ms
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.p50_ns, LatencyHistogram::BucketUpperBound(
                          LatencyHistogram::BucketIndex(1'000)));
  EXPECT_LE(s.p90_ns, 1'000 * 17 / 16);
  EXPECT_EQ(s.p99_ns, 50'000'000);  // clamped to max
}

TEST(LatencyHistogram, NegativeSamplesCountAsZero) {
  LatencyHistogram h;
  h.Record(-5);
  h.Record(7);
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, 2u);
  EXPECT_EQ(s.clamped_negative, 1u);
  EXPECT_EQ(s.min_ns, 0);
  EXPECT_EQ(s.max_ns, 7);
}

TEST(LatencyHistogram, OutOfRangePercentIsClamped) {
  LatencyHistogram h;
  h.Record(3);
  h.Record(9);
  EXPECT_EQ(h.Percentile(-10), 3);
  EXPECT_EQ(h.Percentile(250), 9);
  EXPECT_EQ(h.Percentile(std::nan("")), 3);
}

TEST(LatencyHistogram, ExtremeValuesDoNotOverflow) {
  LatencyHistogram h;
  const int64_t big = std::numeric_limits<int64_t>::max();
  h.Record(big);
  h.Record(big);
  EXPECT_EQ(h.Percentile(50), big);
  EXPECT_EQ(h.Summarize().max_ns, big);
  EXPECT_GT(h.Summarize().mean_ns, 9e18);
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedRelativeWidth) {
  using H = LatencyHistogram;
  EXPECT_EQ(H::BucketLowerBound(0), 0);
  for (size_t i = 0; i + 1 < H::kNumBuckets; ++i) {
    ASSERT_EQ(H::BucketUpperBound(i) + 1, H::BucketLowerBound(i + 1)) << i;
    const double lo = static_cast<double>(H::BucketLowerBound(i));
    const double width = static_cast<double>(H::BucketUpperBound(i)) - lo + 1;
    if (i >= H::kSubBuckets) {
      ASSERT_LE(width / lo, 1.0 / 16 + 1e-12) << i;
    }
  }
  EXPECT_EQ(H::BucketUpperBound(H::kNumBuckets - 1),
            std::numeric_limits<int64_t>::max());
  for (int64_t v :
       {int64_t{0}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{1000},
        int64_t{123'456'789}, std::numeric_limits<int64_t>::max()}) {
    const size_t i = H::BucketIndex(v);
    ASSERT_LT(i, H::kNumBuckets);
    EXPECT_LE(H::BucketLowerBound(i), v);
    EXPECT_GE(H::BucketUpperBound(i), v);
  }
}

TEST(LatencyHistogram, MemoryIsBounded) {
  EXPECT_LT(sizeof(LatencyHistogram), 16u * 1024);
}

TEST(LatencyHistogram, ConcurrentRecordersLoseNothing) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 5000; ++i) h.Record(t * 1000 + i);
    });
  }
  // A reader alongside the writers (TSan checks the locking).
  uint64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    const uint64_t n = h.count();
    EXPECT_GE(n, last);
    last = n;
    (void)h.Summarize();
  }
  for (std::thread& t : threads) t.join();
  const LatencyHistogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, 20'000u);
  EXPECT_EQ(s.min_ns, 0);
  EXPECT_EQ(s.max_ns, 3000 + 4999);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.Record(100);
  h.Reset();
  EXPECT_EQ(h.count(), 0u);
  h.Record(4);
  EXPECT_EQ(h.Summarize().min_ns, 4);
}

TEST(LatencyHistogram, ToStringUsesReadableUnits) {
  LatencyHistogram h;
  h.Record(1'500);
  EXPECT_THAT(h.ToString(), testing::HasSubstr("n=1 min=1.5us"));
  EXPECT_EQ(FormatNanos(850), "850ns");
  EXPECT_EQ(FormatNanos(3'200'000), "3.20ms");
  EXPECT_EQ(FormatNanos(1'500'000'000), "1.50s");
}

TEST(LatencyHistogram, MergeEqualsRecordingEverySampleInOne) {
  LatencyHistogram fast, slow, together;
  for (int64_t ns = 1000; ns < 2000; ns += 10) {
    fast.Record(ns);
    together.Record(ns);
  }
  for (int64_t ns = 1'000'000; ns < 1'000'100; ++ns) {
    slow.Record(ns);
    together.Record(ns);
  }
  slow.Record(-5);
  together.Record(-5);

  LatencyHistogram merged;
  merged.MergeFrom(fast);
  merged.MergeFrom(slow);
  merged.MergeFrom(LatencyHistogram());  // empty: no effect on min/max

  const LatencyHistogram::Summary want = together.Summarize();
  const LatencyHistogram::Summary got = merged.Summarize();
  EXPECT_EQ(got.count, want.count);
  EXPECT_EQ(got.clamped_negative, 1u);
  EXPECT_EQ(got.min_ns, 0);
  EXPECT_EQ(got.max_ns, want.max_ns);
  EXPECT_EQ(got.p50_ns, want.p50_ns);
  EXPECT_EQ(got.p90_ns, want.p90_ns);
  EXPECT_EQ(got.p99_ns, want.p99_ns);
  EXPECT_DOUBLE_EQ(got.mean_ns, want.mean_ns);
  // The larger summary's p50 alone (the old upper-bound merge) is far off.
  EXPECT_LT(got.p50_ns, slow.Summarize().p50_ns);
}

}  // namespace
}  // namespace xehil
