// DrmBackend-based tests rerun under libxehil_preload.so against a real
// xehil-simd, so the real-device code path (open of a render node, libdrm's
// drmGetVersion, raw xe ioctls, pipe2(O_NOTIFICATION_PIPE) and the
// watch-queue ioctls) is covered without hardware:
//  - //core/backend:drm_backend_test, unchanged: on a machine without xe it
//    passes with and without the interposer;
//  - drm_backend_preload_test_main: DrmBackend + XeDevice + Listener on the
//    simulated GPU, the recovery loop included.
// The interposer must be the first library in a process, so each runs as a
// child (with XEHIL_PRELOAD_STRICT=1); its gtest XML goes to the undeclared
// outputs.
//
// args: <libxehil_preload.so> <xehil-simd> <enomem_on_watch.textproto>
//       <drm_backend_test> <drm_backend_preload_test_main>
#include <stdlib.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/preload/preload_test_util.h"

namespace xehil::preload::testing {
namespace {

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}

// Runs a gtest binary under the interposer against a fresh daemon.
void RunGtestUnderPreload(const std::string& binary, const std::string& name) {
  if (PreloadList(Runfile(Args()[0])).empty()) {
    GTEST_SKIP() << "ASan build, but its runtime library was not found "
                    "to load before the interposer";
  }
  absl::StatusOr<std::unique_ptr<SimdDaemon>> daemon =
      SimdDaemon::Start(Runfile(Args()[1]), {"--script=" + Runfile(Args()[2])});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  std::vector<std::string> args;
  if (const char* outputs = ::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    args.push_back(
        absl::StrCat("--gtest_output=xml:", outputs, "/", name, ".xml"));
  }
  CommandResult result =
      RunUnderPreload(Runfile(Args()[0]), (*daemon)->socket(), binary, args);
  EXPECT_EQ(result.exit_code, 0)
      << result.output << "\n--- xehil-simd log ---\n"
      << (*daemon)->Log();
  EXPECT_NE(result.output.find("[  PASSED  ]"), std::string::npos)
      << result.output;
}

TEST(DrmBackendPreload, ExistingDrmBackendTestPassesUnderTheInterposer) {
  RunGtestUnderPreload(Runfile(Args()[3]), "drm_backend_test");
}

TEST(DrmBackendPreload, DrmBackendDrivesTheSimulatedDevice) {
  RunGtestUnderPreload(Runfile(Args()[4]), "drm_backend_preload_test_main");
}

}  // namespace
}  // namespace xehil::preload::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 6) {
    fprintf(stderr,
            "usage: %s <preload.so> <xehil-simd> <script> <drm_backend_test> "
            "<drm_backend_preload_test_main>\n",
            argv[0]);
    return 2;
  }
  xehil::preload::testing::Args().assign(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
