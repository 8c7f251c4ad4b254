#include "tools/lab/fanout.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"

namespace xehil::lab {

absl::Duration BackoffBefore(const RetryPolicy& policy, int attempt) {
  absl::Duration delay = policy.initial_backoff;
  for (int i = 2; i < attempt && delay < policy.max_backoff; ++i) delay *= 2;
  return std::min(delay, policy.max_backoff);
}

absl::Status CallWithRetries(const RetryPolicy& policy,
                             const std::function<absl::Status(int)>& call,
                             int* attempts) {
  const int max_attempts = std::max(1, policy.max_attempts);
  absl::Status status;
  int attempt = 1;
  for (;; ++attempt) {
    status = call(attempt);
    if (!absl::IsUnavailable(status) || attempt >= max_attempts) break;
    const absl::Duration delay = BackoffBefore(policy, attempt + 1);
    if (policy.sleep) {
      policy.sleep(delay);
    } else {
      absl::SleepFor(delay);
    }
  }
  if (attempts != nullptr) *attempts = attempt;
  return status;
}

void ForEachBounded(size_t n, int parallel,
                    const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  const size_t workers =
      std::min(n, static_cast<size_t>(std::max(1, parallel)));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  if (workers == 1) {
    work();
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();  // the calling thread is one of the workers
  for (std::thread& t : threads) t.join();
}

}  // namespace xehil::lab
