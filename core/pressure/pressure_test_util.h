// Test helpers for core/pressure: a one-shot event to wait on with a timeout,
// so tests synchronise with the reaper thread without sleeping.
//
//   Event ran;
//   reaper.Schedule(absl::Milliseconds(1), [&] { ran.Notify(); });
//   ASSERT_TRUE(ran.WaitFor(kLongWait));
#ifndef XEHIL_CORE_PRESSURE_PRESSURE_TEST_UTIL_H_
#define XEHIL_CORE_PRESSURE_PRESSURE_TEST_UTIL_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xehil::testing {

// Generous: only reached when the code under test is broken.
inline constexpr absl::Duration kLongWait = absl::Seconds(20);

class Event {
 public:
  void Notify();
  // True once notified; false if `timeout` passed first.
  bool WaitFor(absl::Duration timeout = kLongWait);
  bool notified();

 private:
  absl::Mutex mu_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace xehil::testing

#endif  // XEHIL_CORE_PRESSURE_PRESSURE_TEST_UTIL_H_
