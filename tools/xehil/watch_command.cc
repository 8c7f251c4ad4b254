#include "tools/xehil/watch_command.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>

#include <cerrno>

#include "absl/synchronization/mutex.h"
#include "core/base/unique_fd.h"
#include "core/device/xe_device.h"
#include "core/watch/listener.h"
#include "tools/xehil/backend_select.h"
#include "tools/xehil/event_format.h"

namespace xehil {
namespace {

// Blocks SIGINT/SIGTERM in this thread (and the threads it starts) and
// returns a signalfd for them, so an interrupt ends the watch cleanly.
UniqueFd InterruptFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return UniqueFd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

// The demo workload on a private device: each VM fails one rebind, then is
// restarted.
absl::Status DriveWorkload(OpenedBackend& opened, XeDevice& device, int errors,
                           std::ostream& err) {
  FaultInjector& faults = *opened.env.faults;
  const uint64_t file = opened.file.client_id;
  XEHIL_ASSIGN_OR_RETURN(std::vector<MemRegion> regions,
                         device.QueryMemRegions());
  uint32_t placement = 1u << regions.back().instance;  // VRAM when present
  constexpr int kVms = 3;
  std::vector<uint32_t> vms;
  for (int i = 0; i < kVms; ++i) {
    XEHIL_ASSIGN_OR_RETURN(uint32_t vm, device.CreateVm(kRestartableLr));
    XEHIL_ASSIGN_OR_RETURN(uint32_t bo, device.CreateBo(16 << 20, placement));
    XEHIL_RETURN_IF_ERROR(device.BindBo(vm, bo, 0, 1ull << 32, 16 << 20));
    vms.push_back(vm);
  }
  for (int i = 0; i < errors; ++i) {
    uint32_t vm = vms[i % kVms];
    int error = i % 2 == 0 ? -ENOMEM : -ENOSPC;
    XEHIL_RETURN_IF_ERROR(faults.FailNextRebinds(file, vm, 1, error));
    XEHIL_RETURN_IF_ERROR(faults.TriggerRebind(file, vm));
    XEHIL_RETURN_IF_ERROR(faults.WaitIdle());
    absl::StatusOr<RestartOutcome> restarted = device.RestartVm(vm);
    if (!restarted.ok()) err << "xehil: " << restarted.status() << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

int RunWatch(const WatchOptions& options, std::ostream& out,
             std::ostream& err) {
  if (options.format != "text" && options.format != "json" &&
      options.format != "raw") {
    err << "xehil: --format must be text, json or raw\n";
    return 2;
  }
  absl::StatusOr<OpenedBackend> opened =
      OpenBackend(options.backend, options.sim_profile, options.xe_path);
  if (!opened.ok()) {
    err << "xehil: " << opened.status().message() << "\n";
    return 1;
  }
  auto device = std::make_unique<XeDevice>(*opened->file.backend);
  NotificationPipeOptions pipe_options;
  pipe_options.ring_notes = options.ring_notes;
  absl::StatusOr<NotificationPipe> pipe =
      device->WatchQueue(options.watch_id, pipe_options);
  if (!pipe.ok()) {
    err << "xehil: " << pipe.status().message() << "\n";
    return 1;
  }

  UniqueFd interrupt = InterruptFd();
  // The listener's thread prints and counts; this one polls the count.
  absl::Mutex mu;
  int seen = 0;  // guarded by mu
  const bool raw = options.format == "raw";
  Listener::Options listener_options;
  if (raw) {
    listener_options.on_read = [&](absl::Span<const uint8_t> bytes) {
      out.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
      out.flush();
    };
  }
  absl::StatusOr<std::unique_ptr<Listener>> listener = Listener::Start(
      *std::move(pipe),
      [&](const WatchEvent& event) {
        absl::MutexLock lock(&mu);
        // The simulator delivers its whole workload before we wait: events
        // past --count are dropped here, not only by the wait below.
        if (options.count > 0 && seen >= options.count) return;
        if (!raw) {
          out << (options.format == "json"
                      ? FormatEventJson(event)
                      : FormatEventText(event, MonotonicNowNs()))
              << std::endl;
        }
        ++seen;
      },
      listener_options);
  if (!listener.ok()) {
    err << "xehil: " << listener.status().message() << "\n";
    return 1;
  }

  if (opened->env.private_device && opened->env.faults != nullptr) {
    absl::Status driven =
        DriveWorkload(*opened, *device, options.sim_errors, err);
    if (!driven.ok()) {
      err << "xehil: simulated workload: " << driven.message() << "\n";
    }
    // Closing the file posts the removal record that ends the stream.
    device.reset();
    opened->file.backend.reset();
  }

  // Wait for the end of the stream, `count` events, or an interrupt. The
  // short poll only bounds how late we notice the first two.
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (options.count > 0 && seen >= options.count) break;
    }
    if ((*listener)->WaitForEnd(absl::Milliseconds(0))) break;
    pollfd pfd{interrupt.get(), POLLIN, 0};
    if (interrupt.valid() && ::poll(&pfd, 1, 100) > 0) break;
    if (!interrupt.valid()) (*listener)->WaitForEnd(absl::Milliseconds(100));
  }
  (*listener)->Stop();
  absl::Status end = (*listener)->end_status();
  if (!end.ok()) {
    err << "xehil: " << end.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace xehil
