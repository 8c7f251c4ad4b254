
#include "core/pressure/pressure_test_util.h"

#include "absl/synchronization/mutex.h"

namespace xehil::testing {

void Event::Notify() {
  absl::MutexLock lock(&mu_);
  notified_ = true;
}

bool Event::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&notified_), timeout);
}

bool Event::notified() {
  absl::MutexLock lock(&mu_);
  return notified_;
}

}  // namespace xehil::testing
