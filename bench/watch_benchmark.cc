// The watch path's figures, all from one run:
//  - records/s from the simulator's notification queue through a real pipe
//    and the Listener to the RecoveryEngine (flow-controlled, no drops);
//  - records lost when a burst of 10,000 VM errors hits a 1-page ring while
//    the listener and engine run;
//  - event-to-handler latency (record timestamp -> listener callback) next to
//    a raw pipe ping-pong measured the same way, the physical floor.
//
//   bazel run -c opt //bench:watch_benchmark
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "core/base/monotonic_clock.h"
#include "core/device/xe_device.h"
#include "core/metrics/latency_histogram.h"
#include "core/recovery/recovery_engine.h"
#include "core/watch/listener.h"
#include "core/watch/record_decoder.h"
#include "sim/notification_queue.h"
#include "sim/sim_backend.h"

namespace xehil {
namespace {

// Delivery only: every event is counted by the engine and nothing restarted,
// so the figures are the pipe, the listener and the engine's queue.
class CountOnlyPolicy : public RecoveryPolicy {
 public:
  Decision OnVmError(RecoveryContext&, const VmError&,
                     const VmStatus&) override {
    return Decision::Ignore();
  }
  Decision OnRestartFailed(RecoveryContext&, const VmStatus&,
                           const absl::Status&) override {
    return Decision::Ignore();
  }
  LossAction OnLost(RecoveryContext&) override { return LossAction::kIgnore; }
  RemovalAction OnRemoved(RecoveryContext&, const Removed&) override {
    return RemovalAction::kIgnore;
  }
};

// A sim queue, a listener on its pipe and an engine behind the listener.
struct Loop {
  std::shared_ptr<sim::Device> device = *sim::Device::Create("dg2-16g");
  std::unique_ptr<sim::SimBackend> file = device->Open();
  XeDevice xe{*file};
  std::shared_ptr<sim::NotificationQueue> queue;
  std::unique_ptr<RecoveryEngine> engine;
  std::unique_ptr<Listener> listener;

  explicit Loop(unsigned long ring_notes) {
    auto created = sim::NotificationQueue::Create();
    queue = created->first;
    queue->SetSize(ring_notes);
    engine = *RecoveryEngine::Start(xe, std::make_unique<CountOnlyPolicy>());
    listener =
        *Listener::Start(std::move(created->second),
                         [this](const WatchEvent& e) { engine->Post(e); });
  }
  ~Loop() {
    listener->Stop();
    engine->Stop();
  }
};

void BM_SimToEngineThroughput(benchmark::State& state) {
  constexpr int kRecords = 200000;
  constexpr uint64_t kWindow = 256;  // records in flight, below the ring
  for (auto _ : state) {
    Loop loop(512);
    for (int i = 0; i < kRecords; ++i) {
      if (i % 64 == 0) {
        const uint64_t want = i > static_cast<int>(kWindow) ? i - kWindow : 0;
        loop.engine->WaitFor(
            [want](const RecoveryEngine::Stats& s) {
              return s.processed >= want;
            },
            std::chrono::seconds(30));
      }
      loop.queue->Post(EncodeVmErr(1 + i % 64, -12, MonotonicNowNs()), 1);
    }
    loop.engine->WaitFor(
        [](const RecoveryEngine::Stats& s) { return s.processed >= kRecords; },
        std::chrono::seconds(30));
    state.counters["lost"] =
        static_cast<double>(loop.queue->stats().dropped_full);
  }
  state.SetItemsProcessed(state.iterations() * kRecords);
}
BENCHMARK(BM_SimToEngineThroughput)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(3);

void BM_BurstLossOnePageRing(benchmark::State& state) {
  constexpr int kBurst = 10000;
  for (auto _ : state) {
    Loop loop(1);  // one page: 32 notes
    for (int i = 0; i < kBurst; ++i) {
      loop.queue->Post(EncodeVmErr(1 + i % 64, -12, MonotonicNowNs()), 1);
    }
    sim::NotificationQueue::Stats q = loop.queue->stats();
    const uint64_t expected = q.posted - q.removals + q.loss_records;
    loop.engine->WaitFor(
        [expected](const RecoveryEngine::Stats& s) {
          return s.processed >= expected;
        },
        std::chrono::seconds(30));
    RecoveryEngine::Stats s = loop.engine->stats();
    state.counters["burst"] = kBurst;
    state.counters["delivered"] = static_cast<double>(s.vm_errors);
    state.counters["lost"] = static_cast<double>(q.dropped_full);
    state.counters["loss_records"] = static_cast<double>(s.losses);
  }
}
BENCHMARK(BM_BurstLossOnePageRing)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

// One record at a time: each is posted only after the previous one reached
// the handler, so the figure is latency, not queueing.
constexpr int kPings = 20000;

void ReportLatency(benchmark::State& state, const LatencyHistogram& h) {
  LatencyHistogram::Summary s = h.Summarize();
  state.counters["p50_us"] = static_cast<double>(s.p50_ns) / 1e3;
  state.counters["p99_us"] = static_cast<double>(s.p99_ns) / 1e3;
  state.counters["samples"] = static_cast<double>(s.count);
}

void BM_EventToHandlerLatency(benchmark::State& state) {
  for (auto _ : state) {
    auto created = sim::NotificationQueue::Create();
    std::shared_ptr<sim::NotificationQueue> queue = created->first;
    queue->SetSize(32);
    LatencyHistogram histogram;
    absl::Mutex mu;
    int handled = 0;
    auto listener =
        *Listener::Start(std::move(created->second), [&](const WatchEvent& e) {
          const auto* err = std::get_if<VmError>(&e);
          if (err == nullptr) return;
          histogram.Record(
              static_cast<int64_t>(MonotonicNowNs() - err->timestamp_ns));
          absl::MutexLock lock(&mu);
          ++handled;
        });
    for (int i = 0; i < kPings; ++i) {
      queue->Post(EncodeVmErr(1, -12, MonotonicNowNs()), 1);
      absl::MutexLock lock(&mu);
      auto delivered = [&] { return handled > i; };
      mu.Await(absl::Condition(&delivered));
    }
    listener->Stop();
    ReportLatency(state, histogram);
  }
}
BENCHMARK(BM_EventToHandlerLatency)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

// The floor: a 24-byte message through a plain pipe to a thread blocked in
// poll(), timestamped the same way.
void BM_RawPipePingPong(benchmark::State& state) {
  for (auto _ : state) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      state.SkipWithError("pipe2 failed");
      return;
    }
    LatencyHistogram histogram;
    absl::Mutex mu;
    int handled = 0;
    std::thread reader([&] {
      uint8_t buf[4096];
      auto give_up = [&] {
        absl::MutexLock lock(&mu);
        handled = kPings;  // releases the writer
      };
      for (int i = 0; i < kPings; ++i) {
        pollfd pfd{fds[0], POLLIN, 0};
        if (poll(&pfd, 1, -1) != 1 || read(fds[0], buf, sizeof(buf)) != 24) {
          return give_up();
        }
        uint64_t sent;
        memcpy(&sent, buf + 16, sizeof(sent));
        histogram.Record(static_cast<int64_t>(MonotonicNowNs() - sent));
        absl::MutexLock lock(&mu);
        ++handled;
      }
    });
    for (int i = 0; i < kPings; ++i) {
      std::vector<uint8_t> msg = EncodeVmErr(1, -12, MonotonicNowNs());
      if (write(fds[1], msg.data(), msg.size()) != 24) break;
      absl::MutexLock lock(&mu);
      auto read = [&] { return handled > i; };
      mu.Await(absl::Condition(&read));
    }
    reader.join();
    close(fds[0]);
    close(fds[1]);
    ReportLatency(state, histogram);
  }
}
BENCHMARK(BM_RawPipePingPong)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace xehil

BENCHMARK_MAIN();
