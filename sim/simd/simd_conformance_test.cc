// The backend conformance suite (core/backend/conformance) on xehil-simd's
// RemoteBackend: one in-process Server per case on a fresh socket, faults
// and the VM observer through its control channel (ControlCapabilities).
#include <memory>
#include <string>

#include "core/backend/conformance/conformance.h"
#include "gtest/gtest.h"
#include "sim/simd/control_capabilities.h"
#include "sim/simd/remote_backend.h"
#include "sim/simd/server.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using conformance::BackendConformance;

class SimdEnv : public conformance::ConformanceEnv {
 public:
  static absl::StatusOr<std::unique_ptr<conformance::ConformanceEnv>> Make() {
    auto env = std::unique_ptr<SimdEnv>(new SimdEnv());
    ServerOptions options;
    options.socket_path = env->dir_.path() + "/simd.sock";
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(std::move(options));
    if (!server.ok()) return server.status();
    env->server_ = *std::move(server);
    absl::StatusOr<std::unique_ptr<ControlCapabilities>> caps =
        ControlCapabilities::Connect(env->server_->socket_path());
    if (!caps.ok()) return caps.status();
    env->caps_ = *std::move(caps);
    return env;
  }
  ~SimdEnv() override {
    if (server_ != nullptr) server_->Stop();
  }

  absl::StatusOr<OpenedFile> OpenFile() override {
    absl::StatusOr<std::unique_ptr<RemoteBackend>> backend =
        RemoteBackend::Connect(server_->socket_path(), "conformance");
    if (!backend.ok()) return backend.status();
    const uint64_t id = (*backend)->file_id();
    return OpenedFile{*std::move(backend), id};
  }
  FaultInjector* Faults() override { return caps_.get(); }
  VmObserver* Observer() override { return caps_.get(); }

 private:
  SimdEnv() = default;
  testing::TempDir dir_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<ControlCapabilities> caps_;
};

INSTANTIATE_TEST_SUITE_P(RemoteBackend, BackendConformance,
                         ::testing::Values(conformance::ConformanceTarget{
                             "simd", SimdEnv::Make}),
                         conformance::TargetName);

}  // namespace
}  // namespace xehil::simd
