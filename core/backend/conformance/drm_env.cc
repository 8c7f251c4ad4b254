#include "core/backend/conformance/drm_env.h"

#include <utility>

#include "core/backend/drm_backend.h"

namespace xehil::conformance {
namespace {

class DrmEnv : public ConformanceEnv {
 public:
  explicit DrmEnv(DrmEnvOptions options) : options_(std::move(options)) {}

  absl::StatusOr<OpenedFile> OpenFile() override {
    absl::StatusOr<std::unique_ptr<DrmBackend>> backend =
        DrmBackend::Open(options_.node);
    if (!backend.ok()) return backend.status();
    const int fd = (*backend)->fd();
    absl::StatusOr<uint64_t> id =
        options_.client_id ? options_.client_id(fd) : ReadDrmClientId(fd);
    // Without an id the file still serves every case that needs no faults.
    if (!id.ok() && options_.faults != nullptr) return id.status();
    return OpenedFile{*std::move(backend), id.value_or(0)};
  }
  FaultInjector* Faults() override { return options_.faults.get(); }
  std::string FaultsMissing() const override { return options_.faults_missing; }
  VmObserver* Observer() override { return options_.observer.get(); }

 private:
  const DrmEnvOptions options_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ConformanceEnv>> MakeDrmEnv(
    DrmEnvOptions options) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> probe =
      DrmBackend::Open(options.node);
  if (absl::IsNotFound(probe.status())) {
    return absl::UnavailableError(probe.status().message());
  }
  if (!probe.ok()) return probe.status();
  if (absl::Status watch = ProbeWatchQueueSupport(); !watch.ok()) {
    return absl::UnavailableError(watch.message());
  }
  return std::make_unique<DrmEnv>(std::move(options));
}

}  // namespace xehil::conformance
