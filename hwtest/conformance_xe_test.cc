// The backend conformance suite on a real xe device: DrmBackend on the first
// xe render node. The suite injects no faults on hardware (the kernel's
// fail_function injection needs root and CONFIG_FUNCTION_ERROR_INJECTION and
// is not wired here), so cases that need VM_ERR records skip with that
// reason. Without an xe render node or watch-queue support every case skips.
// Run it with `bazel test --config=xe //hwtest/...`.
#include "core/backend/conformance/conformance.h"
#include "core/backend/conformance/drm_env.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using conformance::BackendConformance;

absl::StatusOr<std::unique_ptr<conformance::ConformanceEnv>> MakeXeEnv() {
  conformance::DrmEnvOptions options;
  options.faults_missing =
      "a real xe host: this suite injects no faults (kernel fail_function "
      "injection needs root and CONFIG_FUNCTION_ERROR_INJECTION)";
  return conformance::MakeDrmEnv(std::move(options));
}

INSTANTIATE_TEST_SUITE_P(Xe, BackendConformance,
                         ::testing::Values(conformance::ConformanceTarget{
                             "xe", MakeXeEnv}),
                         conformance::TargetName);

}  // namespace
}  // namespace xehil
