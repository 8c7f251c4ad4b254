// The Listener over a simulated notification pipe with the kernel's deferred
// loss record: the schedule that a listener reading once per POLLIN loses.
#include <errno.h>

#include <cstring>
#include <memory>
#include <variant>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/uapi/xe_uapi.h"
#include "core/watch/listener.h"
#include "gtest/gtest.h"
#include "sim/notification_queue.h"
#include "sim/sim_test_util.h"

namespace xehil::sim {
namespace {

class Events {
 public:
  Listener::Callback callback() {
    return [this](const WatchEvent& event) {
      absl::MutexLock lock(&mu_);
      if (std::holds_alternative<Lost>(event)) ++lost_;
      if (std::holds_alternative<VmError>(event)) ++vm_errors_;
    };
  }
  // True once the loss and `vm_errors` errors were delivered (20 s at most:
  // only a listener that never reads the loss record gets there).
  bool WaitForLossAnd(int vm_errors) {
    absl::MutexLock lock(&mu_);
    auto delivered = [&] {
      mu_.AssertReaderHeld();
      return lost_ >= 1 && vm_errors_ >= vm_errors;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&delivered), absl::Seconds(20));
  }

 private:
  absl::Mutex mu_;
  int lost_ ABSL_GUARDED_BY(mu_) = 0;
  int vm_errors_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(ListenerOnSimulatedPipe, HearsALossWhenTheRingDrainsAtTheFlaggedRecord) {
  auto created = NotificationQueue::Create();
  ASSERT_TRUE(created.ok()) << created.status();
  auto [queue, pipe] = *std::move(created);
  ASSERT_EQ(queue->SetSize(1), 0);
  // 32 queued, 8 dropped: the last queued record is flagged and nothing
  // follows it, so the loss record comes only with a second read().
  for (uint32_t vm = 0; vm < 40; ++vm) queue->Post(testing::EncodeVmErr(vm), 1);

  Events events;
  auto listener = Listener::Start(std::move(pipe), events.callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  EXPECT_TRUE(events.WaitForLossAnd(32));
  const Listener::Stats stats = (*listener)->stats();
  EXPECT_EQ(stats.vm_errors, 32u);
  EXPECT_EQ(stats.losses, 1u);
  EXPECT_EQ(stats.bytes, 32u * sizeof(drm_xe_watch_notification_vm_err) + 8);
  (*listener)->Stop();
}

}  // namespace
}  // namespace xehil::sim
