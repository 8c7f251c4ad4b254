#include "tools/agent/agent_backend.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
#include "core/pressure/bo_pressure_injector.h"
#include "environment/registry.h"
#include "environment/sim_environment.h"
#include "sim/sim_backend.h"
#include "sim/sim_pressure_injector.h"
#include "tools/agent/capabilities.h"

namespace xehil::agent {
namespace {

// A provider that cannot work on this host: every call says why.
class UnavailableInjector : public PressureInjector {
 public:
  UnavailableInjector(std::string name, std::string why)
      : name_(std::move(name)), why_(std::move(why)) {}
  std::string Name() const override { return name_; }
  absl::Status CheckAvailable() const override {
    return absl::FailedPreconditionError(why_);
  }
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec&) override {
    return CheckAvailable();
  }

 private:
  const std::string name_;
  const std::string why_;
};

}  // namespace

AgentBackend::AgentBackend(BackendOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<AgentBackend>> AgentBackend::Create(
    BackendOptions options) {
  if (options.backend != "sim" && options.backend != "xe") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown backend '", options.backend, "' (sim or xe)"));
  }
  std::unique_ptr<AgentBackend> backend(new AgentBackend(std::move(options)));
  const BackendOptions& o = backend->options_;
  if (o.backend == "sim") {
    absl::StatusOr<std::shared_ptr<sim::Device>> device =
        sim::Device::Create(o.device_profile);
    if (!device.ok()) {
      return absl::InvalidArgumentError(device.status().message());
    }
    backend->sim_ = *std::move(device);
    backend->control_ = backend->sim_->Open();
    backend->providers_["sim"] =
        std::make_unique<SimPressureInjector>(backend->sim_);
  } else {
    absl::StatusOr<std::unique_ptr<DrmBackend>> drm =
        DrmBackend::Open(o.xe_path);
    if (drm.ok()) {
      backend->control_ = *std::move(drm);
    } else {
      backend->device_status_ = drm.status();
    }
    backend->providers_["sim"] = std::make_unique<UnavailableInjector>(
        "sim",
        "sim pressure needs the simulator backend (--backend=sim); "
        "this agent runs --backend=xe");
  }
  if (backend->control_ != nullptr) {
    absl::MutexLock lock(&backend->control_mu_);  // not shared yet
    backend->control_xe_ = std::make_unique<XeDevice>(*backend->control_);
  }
  backend->providers_["sysmem"] =
      std::make_unique<SysmemPressureInjector>(o.sysmem);
  backend->providers_["xe-vram"] = MakeXeVramInjector(o.xe_path);
  return backend;
}

std::string AgentBackend::device_description() const {
  if (control_ == nullptr) return "";
  return control_->Description();
}

absl::StatusOr<std::vector<MemRegion>> AgentBackend::Regions() {
  absl::MutexLock lock(&control_mu_);
  if (control_xe_ == nullptr) return device_status_;
  return control_xe_->QueryMemRegions();
}

const std::vector<std::string>& AgentBackend::ProviderNames() {
  static const auto* names =
      new std::vector<std::string>{"sim", "sysmem", "xe-vram"};
  return *names;
}

PressureInjector* AgentBackend::ProviderOrNull(const std::string& name) {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

absl::StatusOr<PressureInjector*> AgentBackend::Provider(
    const std::string& name) {
  PressureInjector* injector = ProviderOrNull(name);
  if (injector == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown pressure provider '", name,
                     "' (known: ", absl::StrJoin(ProviderNames(), ", "), ")"));
  }
  XEHIL_RETURN_IF_ERROR(injector->CheckAvailable());
  return injector;
}

absl::StatusOr<uint64_t> AgentBackend::RegionTotal(const std::string& provider,
                                                   uint16_t instance) {
  if (provider == "sysmem") return ReadMemTotal(options_.sysmem.meminfo_path);
  std::vector<MemRegion> regions;
  if (provider == "xe-vram" && options_.backend != "xe") {
    // The agent simulates, but xe-vram pressure goes to the real device.
    XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<DrmBackend> drm,
                           DrmBackend::Open(options_.xe_path));
    XeDevice xe(*drm);
    XEHIL_ASSIGN_OR_RETURN(regions, xe.QueryMemRegions());
  } else {
    XEHIL_ASSIGN_OR_RETURN(regions, Regions());
  }
  std::vector<std::string> known;
  for (const MemRegion& r : regions) {
    if (r.instance == instance) return r.total_size;
    known.push_back(absl::StrCat(r.instance));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the device has no memory region ", instance,
                   " (regions: ", absl::StrJoin(known, ", "), ")"));
}

absl::StatusOr<RunEnvironment> AgentBackend::ScenarioEnvironment() {
  if (sim_ != nullptr) return MakeSimEnvironmentOn(sim_);
  if (!device_status_.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("no device to run on: ", device_status_.message()));
  }
  return OpenEnvironment(options_.xe_path.empty()
                             ? std::string("xe")
                             : absl::StrCat("xe:", options_.xe_path));
}

}  // namespace xehil::agent
