// What an ioctl costs when an unmodified program reaches the simulator
// through libxehil_preload.so and xehil-simd (a Unix-socket round trip),
// next to the same ioctl on an in-process sim::SimBackend. Each iteration
// is timed alone; p50/p99 are reported in microseconds.
//
//   bazel run -c opt //bench:simd_roundtrip_benchmark
//
// Run plainly, the binary re-runs itself under `xehil sim-run` (which starts
// a daemon and sets LD_PRELOAD); the interposed cases run in that child.
#include <fcntl.h>
#include <sys/ioctl.h>
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
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
