#include "core/pressure/pressure_test_util.h"

namespace xehil::testing {

void Event::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

bool Event::WaitFor(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [this] { return notified_; });
}

bool Event::notified() {
  std::lock_guard<std::mutex> lock(mu_);
  return notified_;
}

}  // namespace xehil::testing
