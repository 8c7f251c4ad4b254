// Fan-out: one function per host, run on a bounded pool of threads, with
// per-call retries on UNAVAILABLE. The controller's commands are built on
// it, so a lab of 64 or 500 hosts costs at most `parallel` threads.
//
//   FanoutOptions options;            // parallel = 32, 3 attempts
//   std::vector<HostResult> results = FanOut<HostResult>(
//       hosts.size(), options.parallel, [&](size_t i) {
//         HostResult r;
//         r.status = CallWithRetries(options.retry, [&](int attempt) {
//           return CallGetInfo(hosts[i], &r.info);   // absl::Status
//         }, &r.attempts);
//         return r;
//       });
//   // results[i] belongs to hosts[i], whatever order they finished in.
//
// Only UNAVAILABLE is retried: the agent was not reached (refused, reset,
// shutting down); every other code is the agent's answer and final.
#ifndef XEHIL_TOOLS_LAB_FANOUT_H_
#define XEHIL_TOOLS_LAB_FANOUT_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace xehil::lab {

struct RetryPolicy {
  int max_attempts = 3;  // including the first
  absl::Duration initial_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(2);  // doubling up to this
  // How the backoff waits; tests record the delays instead. null: SleepFor.
  std::function<void(absl::Duration)> sleep;
};

struct FanoutOptions {
  int parallel = 32;  // most hosts served at once
  RetryPolicy retry;
};

// The delay before attempt `attempt` (2, 3, ...): initial * 2^(attempt-2),
// capped at max_backoff.
absl::Duration BackoffBefore(const RetryPolicy& policy, int attempt);

// Calls call(attempt) for attempt = 1, 2, ... while it returns UNAVAILABLE
// and attempts remain, waiting the backoff in between. Returns the last
// status; `attempts` (if set) receives the number of calls made.
absl::Status CallWithRetries(const RetryPolicy& policy,
                             const std::function<absl::Status(int)>& call,
                             int* attempts = nullptr);

// Runs fn(0) .. fn(n-1) on min(n, parallel) threads (at least one), each
// taking the next index when it is free. Returns when every call returned.
// fn must be thread-safe across indices.
void ForEachBounded(size_t n, int parallel,
                    const std::function<void(size_t)>& fn);

// ForEachBounded collecting results in input order.
template <typename T, typename Fn>
std::vector<T> FanOut(size_t n, int parallel, Fn&& fn) {
  std::vector<T> results(n);
  ForEachBounded(n, parallel, [&](size_t i) { results[i] = fn(i); });
  return results;
}

}  // namespace xehil::lab

#endif  // XEHIL_TOOLS_LAB_FANOUT_H_
