// What an ioctl costs when an unmodified program reaches the simulator
// through libxehil_preload.so and xehil-simd (a Unix-socket round trip),
// next to the same ioctl on an in-process sim::SimBackend. Each iteration
// is timed alone; p50/p99 are reported in microseconds.
//
// The floor: a raw SOCK_SEQPACKET round trip between this process and a
// forked echo process, with datagrams the size of the ioctl's request and
// reply. The InterposerVsRaw cases alternate batches of raw round trips and
// interposed ioctls, so both see the same machine, and report each one's
// p50/p99 and the ratios (the goal: interposed <= 3x raw at p50 and p99).
//
//   bazel run -c opt //bench:simd_roundtrip_benchmark
//
// Run plainly, the binary re-runs itself under `xehil sim-run` (which starts
// a daemon and sets LD_PRELOAD); the interposed cases run in that child.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "core/base/monotonic_clock.h"
#include "core/metrics/latency_histogram.h"
#include "core/uapi/xe_uapi.h"
#include "sim/device.h"
#include "sim/sim_backend.h"
#include "sim/simd/wire.h"
#include "tools/xehil/sim_run_process.h"

namespace xehil {
namespace {

// One ioctl through `issue`, timed per iteration.
template <typename Issue>
void TimeEach(benchmark::State& state, Issue issue) {
  LatencyHistogram latency;
  for (auto _ : state) {
    const uint64_t start = MonotonicNowNs();
    const int rc = issue();
    latency.Record(static_cast<int64_t>(MonotonicNowNs() - start));
    if (rc < 0) {
      state.SkipWithError("ioctl failed");
      return;
    }
  }
  const LatencyHistogram::Summary s = latency.Summarize();
  state.counters["p50_us"] = s.p50_ns / 1000.0;
  state.counters["p99_us"] = s.p99_ns / 1000.0;
}

// A forked process that answers each datagram on a SOCK_SEQPACKET
// socketpair with one of `reply_bytes`: the daemon's part of a round trip
// without the daemon's work.
class RawEcho {
 public:
  RawEcho(size_t request_bytes, size_t reply_bytes)
      : request_(request_bytes, 0x5a), reply_(reply_bytes, 0xa5) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
      return;
    }
    child_ = ::fork();
    if (child_ == 0) {
      ::close(fds[0]);
      std::vector<uint8_t> in(request_.size() + 64);
      for (;;) {
        const ssize_t n = ::recv(fds[1], in.data(), in.size(), 0);
        if (n <= 0) ::_exit(0);
        if (::send(fds[1], reply_.data(), reply_.size(), MSG_NOSIGNAL) < 0) {
          ::_exit(1);
        }
      }
    }
    ::close(fds[1]);
    fd_ = child_ > 0 ? fds[0] : -1;
    if (child_ < 0) ::close(fds[0]);
    in_.resize(reply_.size() + 64);
  }
  ~RawEcho() {
    if (fd_ >= 0) ::close(fd_);  // the child sees EOF and exits
    if (child_ > 0) ::waitpid(child_, nullptr, 0);
  }
  bool ok() const { return fd_ >= 0; }

  // One round trip: 0, or -1.
  int RoundTrip() {
    if (::send(fd_, request_.data(), request_.size(), MSG_NOSIGNAL) < 0) {
      return -1;
    }
    return ::recv(fd_, in_.data(), in_.size(), 0) ==
                   static_cast<ssize_t>(reply_.size())
               ? 0
               : -1;
  }

 private:
  std::vector<uint8_t> request_, reply_, in_;
  pid_t child_ = -1;
  int fd_ = -1;
};

// Per iteration: kBatch raw round trips, then kBatch `issue`s, each timed
// alone. Batches, not strict alternation: switching peers every call makes
// each wait for a peer the scheduler just put to sleep, which measures the
// scheduler rather than either path.
constexpr int kBatch = 64;

template <typename Issue>
void TimeAgainstRaw(benchmark::State& state, size_t arg_bytes, Issue issue) {
  // What the wire carries for an ioctl without buffers: a 16-byte header,
  // the request number, the argument and its length; the reply likewise.
  RawEcho raw(16 + 16 + arg_bytes, 16 + 16 + arg_bytes);
  if (!raw.ok()) {
    state.SkipWithError("no socketpair or fork for the raw round trip");
    return;
  }
  LatencyHistogram raw_latency, latency;
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) {
      const uint64_t start = MonotonicNowNs();
      const int rc = raw.RoundTrip();
      raw_latency.Record(static_cast<int64_t>(MonotonicNowNs() - start));
      if (rc < 0) {
        state.SkipWithError("raw round trip failed");
        return;
      }
    }
    for (int i = 0; i < kBatch; ++i) {
      const uint64_t start = MonotonicNowNs();
      const int rc = issue();
      latency.Record(static_cast<int64_t>(MonotonicNowNs() - start));
      if (rc < 0) {
        state.SkipWithError("ioctl failed");
        return;
      }
    }
  }
  const LatencyHistogram::Summary r = raw_latency.Summarize();
  const LatencyHistogram::Summary s = latency.Summarize();
  state.counters["raw_p50_us"] = r.p50_ns / 1000.0;
  state.counters["raw_p99_us"] = r.p99_ns / 1000.0;
  state.counters["p50_us"] = s.p50_ns / 1000.0;
  state.counters["p99_us"] = s.p99_ns / 1000.0;
  state.counters["p50_x"] =
      r.p50_ns > 0 ? static_cast<double>(s.p50_ns) / r.p50_ns : 0;
  state.counters["p99_x"] =
      r.p99_ns > 0 ? static_cast<double>(s.p99_ns) / r.p99_ns : 0;
}

// DEVICE_QUERY's first call (how big is the region list?): no state change,
// one argument struct each way, as cheap as a real ioctl gets.
drm_xe_device_query SizeQuery() {
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  return query;
}

void BM_InProcessSimBackend(benchmark::State& state) {
  auto device = sim::Device::Create("dg2-16g");
  if (!device.ok()) {
    state.SkipWithError("no simulated device");
    return;
  }
  std::unique_ptr<sim::SimBackend> backend = (*device)->Open();
  TimeEach(state, [&] {
    drm_xe_device_query query = SizeQuery();
    return backend->Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &query);
  });
}

// Only meaningful under the interposer (see main).
void BM_InterposerAndDaemon(benchmark::State& state) {
  const int fd = ::open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    state.SkipWithError("open /dev/dri/renderD128 failed");
    return;
  }
  TimeEach(state, [&] {
    drm_xe_device_query query = SizeQuery();
    return ::ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  });
  ::close(fd);
}

// VM_RESTART of a running VM (answered -EALREADY): the recovery loop's own
// ioctl, through the daemon's device lock.
void BM_InterposerAndDaemonRestartRunningVm(benchmark::State& state) {
  const int fd = ::open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  drm_xe_vm_create create{};
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  if (fd < 0 || ::ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create) != 0) {
    state.SkipWithError("no VM under the interposer");
    if (fd >= 0) ::close(fd);
    return;
  }
  TimeEach(state, [&] {
    drm_xe_vm_restart restart{};
    restart.vm_id = create.vm_id;
    const int rc = ::ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart);
    return rc != 0 && errno == EALREADY ? 0 : -1;
  });
  ::close(fd);
}

void BM_DeviceQueryVsRaw(benchmark::State& state) {
  const int fd = ::open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    state.SkipWithError("open /dev/dri/renderD128 failed");
    return;
  }
  TimeAgainstRaw(state, sizeof(drm_xe_device_query), [&] {
    drm_xe_device_query query = SizeQuery();
    return ::ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  });
  ::close(fd);
}

void BM_RestartRunningVmVsRaw(benchmark::State& state) {
  const int fd = ::open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  drm_xe_vm_create create{};
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  if (fd < 0 || ::ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create) != 0) {
    state.SkipWithError("no VM under the interposer");
    if (fd >= 0) ::close(fd);
    return;
  }
  TimeAgainstRaw(state, sizeof(drm_xe_vm_restart), [&] {
    drm_xe_vm_restart restart{};
    restart.vm_id = create.vm_id;
    const int rc = ::ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart);
    return rc != 0 && errno == EALREADY ? 0 : -1;
  });
  ::close(fd);
}

}  // namespace
}  // namespace xehil

int main(int argc, char** argv) {
  if (std::getenv(xehil::simd::kSocketEnv) == nullptr) {
    // Not under the interposer yet: let sim-run start a daemon and re-run us.
    // xehil finds the daemon and the interposer in our runfiles (bazel run
    // does not always say where they are).
    const std::string runfiles = std::string(argv[0]) + ".runfiles";
    if (std::getenv("RUNFILES_DIR") == nullptr &&
        ::access(runfiles.c_str(), F_OK) == 0) {
      ::setenv("RUNFILES_DIR", runfiles.c_str(), 0);
    }
    std::vector<std::string> looked;
    const std::string launcher =
        xehil::FindRunfile("tools/xehil/xehil", &looked);
    if (launcher.empty()) {
      std::fprintf(stderr, "cannot find the xehil binary in the runfiles\n");
      return 1;
    }
    // Our own path, resolved now: in sim-run's child /proc/self/exe would
    // name xehil.
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
      std::perror("readlink /proc/self/exe");
      return 1;
    }
    self[n] = '\0';
    std::vector<char*> args = {const_cast<char*>(launcher.c_str()),
                               const_cast<char*>("sim-run"),
                               const_cast<char*>("--"), self};
    for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    ::execv(launcher.c_str(), args.data());
    std::perror("exec xehil sim-run");
    return 1;
  }
  benchmark::RegisterBenchmark("InProcessSimBackend/DEVICE_QUERY",
                               xehil::BM_InProcessSimBackend);
  benchmark::RegisterBenchmark("InterposerAndDaemon/DEVICE_QUERY",
                               xehil::BM_InterposerAndDaemon);
  benchmark::RegisterBenchmark("InterposerAndDaemon/VM_RESTART_EALREADY",
                               xehil::BM_InterposerAndDaemonRestartRunningVm);
  benchmark::RegisterBenchmark("InterposerVsRaw/DEVICE_QUERY",
                               xehil::BM_DeviceQueryVsRaw);
  benchmark::RegisterBenchmark("InterposerVsRaw/VM_RESTART_EALREADY",
                               xehil::BM_RestartRunningVmVsRaw);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
