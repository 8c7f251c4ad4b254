#include "tools/lab/stop_notice.h"

#include <pthread.h>
#include <signal.h>

#include "absl/synchronization/mutex.h"

namespace xehil::lab {
namespace {

// SIGINT and SIGTERM stop the command; SIGUSR2 (sent only by the destructor
// to this one thread) ends the waiter.
sigset_t WaitedSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

void StopNotice::Notify(const std::string& reason) {
  absl::MutexLock lock(&mu_);
  if (notified_) return;
  notified_ = true;
  reason_ = reason;
}

bool StopNotice::WaitFor(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&notified_), timeout);
}

bool StopNotice::notified() const {
  absl::MutexLock lock(&mu_);
  return notified_;
}

std::string StopNotice::reason() const {
  absl::MutexLock lock(&mu_);
  return reason_;
}

SignalThread::SignalThread(StopNotice* stop) {
  const sigset_t set = WaitedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  thread_ = std::thread([stop, set] {
    for (;;) {
      int number = 0;
      if (sigwait(&set, &number) != 0) continue;
      if (number == SIGUSR2) return;
      stop->Notify(number == SIGINT ? "SIGINT" : "SIGTERM");
    }
  });
}

SignalThread::~SignalThread() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
}

}  // namespace xehil::lab
