#include "tools/xehil/demo.h"

#include <cerrno>
#include <chrono>
#include <fstream>

#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/device/xe_device.h"
#include "core/recovery/default_policy.h"
#include "core/watch/listener.h"
#include "sim/sim_backend.h"
#include "tools/xehil/event_format.h"

namespace xehil {
namespace {

constexpr uint64_t kBoSize = 64ull << 20;
constexpr uint64_t kVmBase = 1ull << 32;
constexpr auto kPhaseTimeout = std::chrono::seconds(20);

// Serialises the demo's output: events come from the listener thread,
// restarts from the engine's worker, phases from the main thread.
class Console {
 public:
  explicit Console(std::ostream& out) : out_(out), start_(MonotonicNowNs()) {}
  void Line(const std::string& text) {
    absl::MutexLock lock(&mu_);
    out_ << text << "\n";
    out_.flush();
  }
  void Timed(const std::string& text) {
    double ms = static_cast<double>(MonotonicNowNs() - start_) / 1e6;
    Line(absl::StrFormat("  %9.3fms  %s", ms, text));
  }

 private:
  absl::Mutex mu_;
  std::ostream& out_;
  const uint64_t start_;
};

// The default policy, narrated.
class NarratedPolicy : public DefaultRecoveryPolicy {
 public:
  NarratedPolicy(Console& console, bool quiet)
      : DefaultRecoveryPolicy(Options()), console_(console), quiet_(quiet) {}

  void AfterRestart(RecoveryContext&, const VmStatus& vm,
                    const absl::Status& result) override {
    if (quiet_) return;
    std::string what =
        result.ok() ? "rebind ran" : std::string(result.message());
    console_.Timed(absl::StrFormat("RESTART vm=%u (failure %d in a row%s): %s",
                                   vm.vm_id, vm.consecutive_failures,
                                   vm.reconcile ? ", reconcile" : "", what));
  }

 private:
  Console& console_;
  const bool quiet_;
};

class Demo {
 public:
  Demo(const DemoOptions& options, std::ostream& out)
      : options_(options), console_(out) {}

  absl::StatusOr<DemoResult> Run();

 private:
  absl::Status SetUp();
  absl::Status StartListening();
  absl::Status Burst();
  absl::Status Transient();
  absl::Status HeldPressure();
  absl::Status AgainRun();
  int HealthyVms() const;
  // Waits until every VM is healthy, checked after each engine step.
  absl::Status WaitAllHealthy(const char* phase);
  void Summarize(const DemoResult& result);

  const DemoOptions options_;
  Console console_;
  std::shared_ptr<sim::Device> sim_;
  std::unique_ptr<sim::SimBackend> file_;
  std::unique_ptr<XeDevice> device_;
  std::vector<uint32_t> vms_;
  uint16_t vram_instance_ = 0;
  NotificationPipe pipe_;
  std::ofstream record_;
  absl::Mutex record_mu_;
  std::unique_ptr<RecoveryEngine> engine_;
  std::unique_ptr<Listener> listener_;
};

absl::Status Demo::SetUp() {
  XEHIL_ASSIGN_OR_RETURN(sim_, sim::Device::Create(options_.profile));
  file_ = sim_->Open();
  device_ = std::make_unique<XeDevice>(*file_);
  XEHIL_ASSIGN_OR_RETURN(std::vector<MemRegion> regions,
                         device_->QueryMemRegions());
  // VRAM-only BOs where there is VRAM: eviction then fails with -ENOSPC.
  vram_instance_ = regions.back().instance;
  for (int i = 0; i < options_.vms; ++i) {
    XEHIL_ASSIGN_OR_RETURN(uint32_t vm, device_->CreateVm(kRestartableLr));
    XEHIL_ASSIGN_OR_RETURN(uint32_t bo,
                           device_->CreateBo(kBoSize, 1u << vram_instance_));
    XEHIL_RETURN_IF_ERROR(device_->BindBo(vm, bo, 0, kVmBase, kBoSize));
    vms_.push_back(vm);
  }
  NotificationPipeOptions pipe_options;
  pipe_options.ring_notes = options_.ring_notes;
  XEHIL_ASSIGN_OR_RETURN(pipe_, device_->WatchQueue(1, pipe_options));
  if (!options_.record_path.empty()) {
    record_.open(options_.record_path, std::ios::binary | std::ios::trunc);
    if (!record_) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "cannot write --record file %s", options_.record_path));
    }
  }
  console_.Line(absl::StrFormat(
      "xehil demo on %s: %d restartable LR VMs, each with a %d MiB VRAM BO; "
      "ring of %u notes",
      file_->Description(), options_.vms, kBoSize >> 20,
      ((options_.ring_notes + 31) / 32) * 32));
  return absl::OkStatus();
}

absl::Status Demo::StartListening() {
  auto policy = std::make_unique<NarratedPolicy>(console_, options_.quiet);
  XEHIL_ASSIGN_OR_RETURN(engine_,
                         RecoveryEngine::Start(*device_, std::move(policy)));
  Listener::Options listener_options;
  if (record_.is_open()) {
    listener_options.on_read = [this](absl::Span<const uint8_t> bytes) {
      absl::MutexLock lock(&record_mu_);
      record_.write(reinterpret_cast<const char*>(bytes.data()),
                    static_cast<std::streamsize>(bytes.size()));
    };
  }
  XEHIL_ASSIGN_OR_RETURN(listener_, Listener::Start(
                                        std::move(pipe_),
                                        [this](const WatchEvent& event) {
                                          if (!options_.quiet) {
                                            console_.Timed(FormatEventText(
                                                event, MonotonicNowNs()));
                                          }
                                          engine_->Post(event);
                                        },
                                        listener_options));
  return absl::OkStatus();
}

absl::Status Demo::Burst() {
  console_.Line(absl::StrFormat(
      "\n[1/4] burst: all %d VMs fail a rebind (-ENOMEM) before the listener "
      "runs; the ring overflows",
      options_.vms));
  for (uint32_t vm : vms_) {
    XEHIL_RETURN_IF_ERROR(
        sim_->FailNextRebinds(file_->file_id(), vm, 1, -ENOMEM));
    XEHIL_RETURN_IF_ERROR(sim_->TriggerRebind(file_->file_id(), vm));
  }
  sim_->WaitIdle();
  sim::DeviceCounters c = sim_->counters();
  console_.Line(absl::StrFormat(
      "      queued %u records, %u refused by the full ring; starting the "
      "listener and the engine",
      c.records_posted, c.records_refused));
  XEHIL_RETURN_IF_ERROR(StartListening());
  return WaitAllHealthy("burst");
}

absl::Status Demo::Transient() {
  uint32_t vm = vms_.front();
  console_.Line(absl::StrFormat("\n[2/4] transient -ENOMEM on vm %u", vm));
  XEHIL_RETURN_IF_ERROR(
      sim_->FailNextRebinds(file_->file_id(), vm, 1, -ENOMEM));
  XEHIL_RETURN_IF_ERROR(sim_->TriggerRebind(file_->file_id(), vm));
  sim_->WaitIdle();
  return WaitAllHealthy("transient");
}

absl::Status Demo::HeldPressure() {
  std::vector<sim::RegionUsage> regions = sim_->Regions();
  const sim::RegionUsage* vram = nullptr;
  for (const sim::RegionUsage& r : regions) {
    if (r.spec.instance == vram_instance_) vram = &r;
  }
  if (vram == nullptr) return absl::InternalError("VRAM region vanished");
  // Just enough pressure to push two VMs' BOs out of VRAM.
  uint64_t free = vram->spec.total_bytes - vram->used - vram->pressure;
  uint64_t pressure = free + 2 * kBoSize;
  console_.Line(absl::StrFormat(
      "\n[3/4] -ENOSPC: %.2f GiB of VRAM pressure evicts two VMs; held for %d "
      "failed restarts (backoff), then released",
      static_cast<double>(pressure) / (1ull << 30), options_.held_restarts));
  uint64_t tried_before = engine_->stats().restarts_tried;
  XEHIL_RETURN_IF_ERROR(sim_->InjectPressure(vram_instance_, pressure));
  sim_->WaitIdle();
  const uint64_t target =
      tried_before + 2 * static_cast<uint64_t>(options_.held_restarts);
  if (!engine_->WaitFor(
          [&](const RecoveryEngine::Stats& s) {
            return s.restarts_tried >= target;
          },
          kPhaseTimeout)) {
    return absl::DeadlineExceededError("held pressure: restarts never came");
  }
  console_.Line("      releasing the pressure");
  XEHIL_RETURN_IF_ERROR(sim_->ReleasePressure(vram_instance_, pressure));
  return WaitAllHealthy("held pressure");
}

absl::Status Demo::AgainRun() {
  uint32_t vm = vms_[vms_.size() / 2];
  console_.Line(absl::StrFormat(
      "\n[4/4] -EAGAIN: vm %u fails a rebind; its restart answers -EAGAIN %d "
      "times (userptrs repinned) before it goes through",
      vm, options_.eagain_restarts));
  XEHIL_RETURN_IF_ERROR(
      sim_->FailNextRestarts(file_->file_id(), vm, options_.eagain_restarts));
  XEHIL_RETURN_IF_ERROR(
      sim_->FailNextRebinds(file_->file_id(), vm, 1, -ENOMEM));
  XEHIL_RETURN_IF_ERROR(sim_->TriggerRebind(file_->file_id(), vm));
  sim_->WaitIdle();
  return WaitAllHealthy("EAGAIN run");
}

int Demo::HealthyVms() const {
  int healthy = 0;
  for (uint32_t vm : vms_) {
    absl::StatusOr<sim::VmStatus> s = sim_->GetVm(file_->file_id(), vm);
    if (s.ok() && s->state == sim::VmState::kHealthy) ++healthy;
  }
  return healthy;
}

absl::Status Demo::WaitAllHealthy(const char* phase) {
  const int want = static_cast<int>(vms_.size());
  if (!engine_->WaitFor(
          [&](const RecoveryEngine::Stats&) { return HealthyVms() == want; },
          kPhaseTimeout)) {
    console_.Line(absl::StrFormat("      %s: only %d of %d VMs recovered",
                                  phase, HealthyVms(), want));
    return absl::OkStatus();  // reported in the summary
  }
  console_.Line(absl::StrFormat("      all %d VMs healthy", want));
  return absl::OkStatus();
}

void Demo::Summarize(const DemoResult& r) {
  const RecoveryEngine::Stats& s = r.engine;
  auto ms = [](int64_t ns) { return static_cast<double>(ns) / 1e6; };
  console_.Line("\nsummary");
  console_.Line(
      absl::StrFormat("  %-22s VM_ERR %u  LOST %u  REMOVED %u  "
                      "UNKNOWN %u  (%u records, %u bytes read)",
                      "events", s.vm_errors, s.losses, s.removals, s.unknowns,
                      r.records_read, r.bytes_read));
  console_.Line(absl::StrFormat(
      "  %-22s tried %u  succeeded %u  failed %u  benign %u  "
      "(-EAGAIN answers %u, coalesced errors %u, reconciles %u)",
      "restarts", s.restarts_tried, s.restarts_succeeded, s.restarts_failed,
      s.restarts_benign, s.eagain_tries, s.coalesced, s.reconciles));
  console_.Line(absl::StrFormat(
      "  %-22s p50 %.3f ms  p99 %.3f ms  max %.3f ms  (n=%u)",
      "event->restart latency", ms(s.latency.p50_ns), ms(s.latency.p99_ns),
      ms(s.latency.max_ns), s.latency.count));
  console_.Line(absl::StrFormat("  %-22s %d/%d%s", "VMs healthy", r.healthy,
                                r.vms,
                                r.recovered() ? "" : "  (NOT RECOVERED)"));
}

absl::StatusOr<DemoResult> Demo::Run() {
  if (options_.vms < 4) {
    return absl::InvalidArgumentError("--vms must be at least 4");
  }
  XEHIL_RETURN_IF_ERROR(SetUp());
  absl::Status status = Burst();
  if (status.ok()) status = Transient();
  if (status.ok()) status = HeldPressure();
  if (status.ok()) status = AgainRun();
  if (engine_ != nullptr) engine_->WaitUntilQuiescent(kPhaseTimeout);
  DemoResult result;
  result.vms = static_cast<int>(vms_.size());
  result.healthy = HealthyVms();
  if (listener_ != nullptr) {
    listener_->Stop();
    result.records_read = listener_->stats().records;
    result.bytes_read = listener_->stats().bytes;
  }
  if (engine_ != nullptr) {
    engine_->Stop();
    result.engine = engine_->stats();
  }
  if (!status.ok()) return status;
  Summarize(result);
  return result;
}

}  // namespace

absl::StatusOr<DemoResult> RunDemo(const DemoOptions& options,
                                   std::ostream& out) {
  Demo demo(options, out);
  return demo.Run();
}

}  // namespace xehil
