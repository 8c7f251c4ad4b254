#include "core/metrics/latency_histogram.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace xehil {

size_t LatencyHistogram::BucketIndex(int64_t ns) {
  if (ns < kSubBuckets) return ns < 0 ? 0 : static_cast<size_t>(ns);
  const uint64_t v = static_cast<uint64_t>(ns);
  const int exponent = 63 - __builtin_clzll(v);  // 4..62
  const int shift = exponent - kSubBucketBits;
  const size_t sub = (v >> shift) & (kSubBuckets - 1);
  return kSubBuckets + static_cast<size_t>(shift) * kSubBuckets + sub;
}

int64_t LatencyHistogram::BucketLowerBound(size_t index) {
  if (index < kSubBuckets) return static_cast<int64_t>(index);
  const size_t shift = (index - kSubBuckets) / kSubBuckets;
  const uint64_t sub = (index - kSubBuckets) % kSubBuckets;
  return static_cast<int64_t>((kSubBuckets + sub) << shift);
}

int64_t LatencyHistogram::BucketUpperBound(size_t index) {
  if (index < kSubBuckets) return static_cast<int64_t>(index);
  const size_t shift = (index - kSubBuckets) / kSubBuckets;
  // Written as lower + (width - 1) so the last bucket ends at INT64_MAX
  // without overflowing.
  return BucketLowerBound(index) +
         static_cast<int64_t>((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(int64_t ns) {
  absl::MutexLock lock(&mu_);
  if (ns < 0) {
    ++clamped_negative_;
    ns = 0;
  }
  ++buckets_[BucketIndex(ns)];
  if (count_ == 0 || ns < min_) min_ = ns;
  if (count_ == 0 || ns > max_) max_ = ns;
  ++count_;
  sum_ += ns;
}

void LatencyHistogram::MergeFrom(const LatencyHistogram& other) {
  // Copy under the other's lock first: taking both locks at once could
  // deadlock two threads merging in opposite directions.
  std::array<uint64_t, kNumBuckets> buckets;
  uint64_t count = 0, clamped = 0;
  int64_t min = 0, max = 0;
  long double sum = 0;
  {
    absl::MutexLock lock(&other.mu_);
    buckets = other.buckets_;
    count = other.count_;
    clamped = other.clamped_negative_;
    min = other.min_;
    max = other.max_;
    sum = other.sum_;
  }
  if (count == 0) return;
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < kNumBuckets; ++i) buckets_[i] += buckets[i];
  if (count_ == 0 || min < min_) min_ = min;
  if (count_ == 0 || max > max_) max_ = max;
  count_ += count;
  clamped_negative_ += clamped;
  sum_ += sum;
}

int64_t LatencyHistogram::PercentileLocked(double percent) const {
  if (count_ == 0) return 0;
  if (!(percent >= 0)) percent = 0;  // also catches NaN
  percent = std::min(percent, 100.0);
  // The rank (1-based) of the sample that answers: ceil(p% of count), >= 1.
  uint64_t rank = static_cast<uint64_t>(
      std::ceil(percent / 100.0 * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < kNumBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      return std::clamp(BucketUpperBound(i), min_, max_);
    }
  }
  return max_;  // unreachable: the buckets sum to count_
}

int64_t LatencyHistogram::Percentile(double percent) const {
  absl::MutexLock lock(&mu_);
  return PercentileLocked(percent);
}

uint64_t LatencyHistogram::count() const {
  absl::MutexLock lock(&mu_);
  return count_;
}

LatencyHistogram::Summary LatencyHistogram::Summarize() const {
  absl::MutexLock lock(&mu_);
  Summary s;
  if (count_ == 0) return s;
  s.count = count_;
  s.clamped_negative = clamped_negative_;
  s.min_ns = min_;
  s.max_ns = max_;
  s.mean_ns = static_cast<double>(sum_ / count_);
  s.p50_ns = PercentileLocked(50);
  s.p90_ns = PercentileLocked(90);
  s.p99_ns = PercentileLocked(99);
  return s;
}

std::string LatencyHistogram::ToString() const {
  const Summary s = Summarize();
  if (s.count == 0) return "n=0";
  return absl::StrCat(
      "n=", s.count, " min=", FormatNanos(s.min_ns),
      " p50=", FormatNanos(s.p50_ns), " p90=", FormatNanos(s.p90_ns),
      " p99=", FormatNanos(s.p99_ns), " max=", FormatNanos(s.max_ns),
      " mean=", FormatNanos(std::llround(s.mean_ns)));
}

void LatencyHistogram::Reset() {
  absl::MutexLock lock(&mu_);
  buckets_.fill(0);
  count_ = 0;
  clamped_negative_ = 0;
  min_ = 0;
  max_ = 0;
  sum_ = 0;
}

std::string FormatNanos(int64_t ns) {
  const double v = static_cast<double>(ns);
  const double a = std::fabs(v);
  if (a < 1e3) return absl::StrCat(ns, "ns");
  if (a < 1e6) return absl::StrFormat("%.1fus", v / 1e3);
  if (a < 1e9) return absl::StrFormat("%.2fms", v / 1e6);
  return absl::StrFormat("%.2fs", v / 1e9);
}

}  // namespace xehil
