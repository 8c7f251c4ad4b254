// LatencyHistogram: records durations in nanoseconds and answers count, min,
// max, mean and percentiles, in fixed memory (about 8 KiB) whatever the
// number or range of samples. Used for the recovery engine's event-to-restart
// latency.
//
//   LatencyHistogram h;
//   h.Record(1500);                       // 1.5 us
//   LatencyHistogram::Summary s = h.Summarize();
//   // s.count == 1, s.p99_ns == 1500
//
// Buckets are log-linear: values below 16 ns have one bucket each; above,
// every power-of-two range [2^e, 2^(e+1)) is split into 16 equal buckets. A
// percentile is reported as the upper bound of the bucket holding that rank,
// clamped to [min, max], so it is exact below 16 ns and otherwise at most
// 1/16 (6.25 %) above the true sample. Min, max and mean are exact.
//
// Thread-safe: Record may be called from any thread while others read.
#ifndef XEHIL_CORE_METRICS_LATENCY_HISTOGRAM_H_
#define XEHIL_CORE_METRICS_LATENCY_HISTOGRAM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace xehil {

class LatencyHistogram {
 public:
  // A consistent snapshot. All fields are 0 when nothing was recorded.
  struct Summary {
    uint64_t count = 0;
    uint64_t clamped_negative = 0;  // samples below 0, recorded as 0
    int64_t min_ns = 0;
    int64_t max_ns = 0;
    double mean_ns = 0;
    int64_t p50_ns = 0;
    int64_t p90_ns = 0;
    int64_t p99_ns = 0;
  };

  // 16 exact buckets, then 16 per power of two for exponents 4..62.
  static constexpr int kSubBucketBits = 4;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr size_t kNumBuckets =
      kSubBuckets + (63 - kSubBucketBits) * kSubBuckets;

  LatencyHistogram() = default;
  LatencyHistogram(const LatencyHistogram&) = delete;
  LatencyHistogram& operator=(const LatencyHistogram&) = delete;

  // Adds one sample. A negative duration (clocks that disagree) counts as 0
  // and is tallied in Summary::clamped_negative rather than dropped.
  void Record(int64_t ns);

  // The smallest bucketed value v such that at least `percent` % of samples
  // are <= v (see the header comment for the precision). `percent` is
  // clamped to [0, 100]; 0 when empty.
  int64_t Percentile(double percent) const;

  uint64_t count() const;
  Summary Summarize() const;

  // "n=12 min=1.2us p50=3.0us p90=9.1us p99=12.0us max=12.0us mean=4.1us".
  std::string ToString() const;

  void Reset();

  // Adds every sample `other` holds, as if each had been recorded here, so
  // percentiles of the union are exact to the bucket (not a bound built from
  // two summaries). Merging a histogram into itself doubles it.
  void MergeFrom(const LatencyHistogram& other);

  // Bucket arithmetic, exposed for tests.
  static size_t BucketIndex(int64_t ns);
  static int64_t BucketLowerBound(size_t index);
  static int64_t BucketUpperBound(size_t index);  // inclusive

 private:
  int64_t PercentileLocked(double percent) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::array<uint64_t, kNumBuckets> buckets_ ABSL_GUARDED_BY(mu_){};
  uint64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t clamped_negative_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t min_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_ ABSL_GUARDED_BY(mu_) = 0;
  long double sum_ ABSL_GUARDED_BY(mu_) = 0;
};

// "850ns", "12.5us", "3.20ms", "1.50s".
std::string FormatNanos(int64_t ns);

}  // namespace xehil

#endif  // XEHIL_CORE_METRICS_LATENCY_HISTOGRAM_H_
