#include "environment/registry.h"

#include <cerrno>
#include <string>

#include "absl/status/status.h"
#include "core/device/xe_device.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/simd/simd_test_util.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

TEST(ParseEnvironmentName, AcceptsEachKindWithAndWithoutArgument) {
  for (const char* name : {"sim", "sim:bmg-12g", "simd", "simd:/run/s.sock",
                           "xe", "xe:/dev/dri/renderD128"}) {
    EXPECT_TRUE(ParseEnvironmentName(name).ok()) << name;
  }
  absl::StatusOr<EnvironmentName> parsed =
      ParseEnvironmentName("xe:/dev/dri/renderD129");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->kind, "xe");
  EXPECT_EQ(parsed->argument, "/dev/dri/renderD129");
}

TEST(ParseEnvironmentName, UnknownKindListsTheForms) {
  absl::StatusOr<EnvironmentName> parsed = ParseEnvironmentName("gpu");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(),
              HasSubstr("unknown environment 'gpu'"));
  EXPECT_THAT(parsed.status().message(), HasSubstr("simd[:SOCKET]"));
}

TEST(ParseEnvironmentName, EmptyArgumentIsAnError) {
  absl::StatusOr<EnvironmentName> parsed = ParseEnvironmentName("sim:");
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(parsed.status().message(), HasSubstr("nothing after ':'"));
}

TEST(OpenEnvironment, SimOffersEveryCapabilityOnAPrivateDevice) {
  absl::StatusOr<RunEnvironment> env = OpenEnvironment("sim:bmg-12g");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->backend_name, "sim");
  EXPECT_THAT(env->device_description, HasSubstr("bmg-12g"));
  EXPECT_TRUE(env->private_device);
  ASSERT_NE(env->faults, nullptr);
  ASSERT_NE(env->observer, nullptr);
  ASSERT_NE(env->pressure, nullptr);

  // The capabilities name the files open_file made.
  absl::StatusOr<OpenedFile> file = env->open_file();
  ASSERT_TRUE(file.ok()) << file.status();
  XeDevice device(*file->backend);
  absl::StatusOr<uint32_t> vm = device.CreateVm(
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE);
  ASSERT_TRUE(vm.ok()) << vm.status();
  ASSERT_TRUE(
      env->faults->FailNextRebinds(file->client_id, *vm, 1, -ENOMEM).ok());
  ASSERT_TRUE(env->faults->TriggerRebind(file->client_id, *vm).ok());
  ASSERT_TRUE(env->faults->WaitIdle().ok());
  absl::StatusOr<ObservedVm> seen = env->observer->GetVm(file->client_id, *vm);
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state, ObservedVm::State::kPaused);
  EXPECT_EQ(seen->error, -ENOMEM);
  EXPECT_EQ(env->observer->GetVm(file->client_id, *vm + 100).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(OpenEnvironment, PlainSimTakesTheDefaultsProfile) {
  EnvironmentDefaults defaults;
  defaults.sim_profile = "lnl-igpu";
  absl::StatusOr<RunEnvironment> env = OpenEnvironment("sim", defaults);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_THAT(env->device_description, HasSubstr("lnl-igpu"));
  // A profile in the name wins over the defaults'.
  env = OpenEnvironment("sim:dg2-16g", defaults);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_THAT(env->device_description, HasSubstr("dg2-16g"));
}

TEST(OpenEnvironment, UnknownProfileIsNotFound) {
  EXPECT_EQ(OpenEnvironment("sim:nope").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(OpenEnvironment, MissingDevicesSayWhatIsMissing) {
  absl::StatusOr<RunEnvironment> simd =
      OpenEnvironment("simd:/nonexistent/xehil-simd.sock");
  EXPECT_FALSE(simd.ok());
  EXPECT_THAT(simd.status().message(),
              HasSubstr("/nonexistent/xehil-simd.sock"));
  absl::StatusOr<RunEnvironment> xe =
      OpenEnvironment("xe:/nonexistent/renderD128");
  EXPECT_FALSE(xe.ok());
  EXPECT_THAT(xe.status().message(), HasSubstr("/nonexistent/renderD128"));
}

class SimdEnvironment : public simd::testing::ServerTest {};

TEST_F(SimdEnvironment, FilesAreConnectionsToTheDaemonWithItsCapabilities) {
  absl::StatusOr<RunEnvironment> env = OpenEnvironment("simd:" + socket_);
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->backend_name, "simd");
  EXPECT_FALSE(env->private_device);
  // Every capability, over the daemon's control channel.
  EXPECT_NE(env->faults, nullptr);
  EXPECT_NE(env->observer, nullptr);
  EXPECT_NE(env->pressure, nullptr);
  absl::StatusOr<OpenedFile> file = env->open_file();
  ASSERT_TRUE(file.ok()) << file.status();
  const sim::DeviceStatus status = Status();
  bool listed = false;
  for (const auto& open : status.files()) {
    listed |= open.file_id() == file->client_id;
  }
  EXPECT_TRUE(listed) << "file " << file->client_id << " not in the status";
}

}  // namespace
}  // namespace xehil
