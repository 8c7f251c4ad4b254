#include "tools/lab/fanout.h"

#include <atomic>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::lab {
namespace {

using ::testing::ElementsAre;

TEST(FanOut, ResultsComeBackInInputOrder) {
  // Later indices finish first: each waits until its successor is done.
  constexpr size_t kN = 6;
  absl::Mutex mu;
  std::vector<bool> done(kN + 1, false);
  done[kN] = true;
  std::vector<std::string> out =
      FanOut<std::string>(kN, static_cast<int>(kN), [&](size_t i) {
        absl::MutexLock lock(&mu);
        auto successor_done = [&]() -> bool { return done[i + 1]; };
        mu.Await(absl::Condition(&successor_done));
        done[i] = true;
        return "host-" + std::to_string(i);
      });
  EXPECT_THAT(out, ElementsAre("host-0", "host-1", "host-2", "host-3", "host-4",
                               "host-5"));
}

TEST(FanOut, NeverRunsMoreThanParallelAtOnceAndReachesIt) {
  constexpr int kParallel = 4;
  absl::Mutex mu;
  int running = 0, peak = 0, started = 0;
  std::vector<int> out = FanOut<int>(64, kParallel, [&](size_t i) {
    absl::MutexLock lock(&mu);
    ++running;
    ++started;
    peak = std::max(peak, running);
    // The first kParallel calls wait for each other, so all of them must be
    // running at once; later calls need not wait.
    auto all_started = [&] { return started >= kParallel; };
    mu.Await(absl::Condition(&all_started));
    --running;
    return static_cast<int>(i) * 2;
  });
  EXPECT_EQ(peak, kParallel);
  ASSERT_EQ(out.size(), 64u);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(out[i], 2 * i);
}

TEST(FanOut, HandlesZeroAndOneHost) {
  EXPECT_TRUE(FanOut<int>(0, 8, [](size_t) { return 1; }).empty());
  EXPECT_THAT(FanOut<int>(1, 0, [](size_t) { return 7; }), ElementsAre(7));
}

RetryPolicy RecordingPolicy(std::vector<absl::Duration>* delays) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.max_backoff = absl::Milliseconds(150);
  policy.sleep = [delays](absl::Duration d) { delays->push_back(d); };
  return policy;
}

TEST(Retries, RetriesUnavailableWithBackoffUpToTheLimit) {
  std::vector<absl::Duration> delays;
  int attempts = 0;
  absl::Status s = CallWithRetries(
      RecordingPolicy(&delays),
      [](int) { return absl::UnavailableError("refused"); }, &attempts);
  EXPECT_TRUE(absl::IsUnavailable(s));
  EXPECT_EQ(attempts, 3);
  EXPECT_THAT(delays,
              ElementsAre(absl::Milliseconds(100), absl::Milliseconds(150)));
}

TEST(Retries, StopsAtTheFirstAnswerThatIsNotUnavailable) {
  std::vector<absl::Duration> delays;
  int attempts = 0;
  absl::Status s = CallWithRetries(
      RecordingPolicy(&delays),
      [](int attempt) {
        return attempt == 1 ? absl::UnavailableError("refused")
                            : absl::OkStatus();
      },
      &attempts);
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(attempts, 2);
  for (absl::Status final :
       {absl::DeadlineExceededError("slow"), absl::PermissionDeniedError("x"),
        absl::ResourceExhaustedError("cap"), absl::NotFoundError("lease")}) {
    attempts = 0;
    delays.clear();
    EXPECT_EQ(
        CallWithRetries(
            RecordingPolicy(&delays), [&](int) { return final; }, &attempts),
        final);
    EXPECT_EQ(attempts, 1) << final;
    EXPECT_TRUE(delays.empty());
  }
}

TEST(Retries, BackoffDoublesAndIsCapped) {
  RetryPolicy policy;
  policy.initial_backoff = absl::Milliseconds(250);
  policy.max_backoff = absl::Seconds(2);
  EXPECT_EQ(BackoffBefore(policy, 2), absl::Milliseconds(250));
  EXPECT_EQ(BackoffBefore(policy, 3), absl::Milliseconds(500));
  EXPECT_EQ(BackoffBefore(policy, 4), absl::Seconds(1));
  EXPECT_EQ(BackoffBefore(policy, 9), absl::Seconds(2));
}

}  // namespace
}  // namespace xehil::lab
