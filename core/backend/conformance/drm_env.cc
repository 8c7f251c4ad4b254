#include "core/backend/conformance/drm_env.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
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
        options_.client_id ? options_.client_id(fd) : DrmClientId(fd);
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

absl::StatusOr<uint64_t> DrmClientId(int fd) {
  const std::string path = absl::StrCat("/proc/self/fdinfo/", fd);
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  const std::string all = text.str();
  for (absl::string_view line : absl::StrSplit(all, '\n')) {
    if (!absl::ConsumePrefix(&line, "drm-client-id:")) continue;
    uint64_t id = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &id)) return id;
  }
  return absl::NotFoundError(absl::StrCat(path, " has no drm-client-id"));
}

}  // namespace xehil::conformance
