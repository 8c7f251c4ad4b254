// The backend conformance suite on DrmBackend under libxehil_preload.so
// against a private xehil-simd: drm_conformance_main runs as a child with the
// interposer first in its process, and names its daemon's control socket
// through $XEHIL_SIMD_SOCKET for the fault cases. Its gtest XML goes to the
// undeclared outputs.
//
// args: <libxehil_preload.so> <xehil-simd> <drm_conformance_main>
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

TEST(ConformanceUnderPreload, DrmBackendPassesTheBackendConformanceSuite) {
  if (PreloadList(Runfile(Args()[0])).empty()) {
    GTEST_SKIP() << "ASan build, but its runtime library was not found "
                    "to load before the interposer";
  }
  absl::StatusOr<std::unique_ptr<SimdDaemon>> daemon =
      SimdDaemon::Start(Runfile(Args()[1]), {});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  std::vector<std::string> args;
  if (const char* outputs = ::getenv("TEST_UNDECLARED_OUTPUTS_DIR")) {
    args.push_back(absl::StrCat("--gtest_output=xml:", outputs,
                                "/drm_conformance_main.xml"));
  }
  CommandResult result = RunUnderPreload(
      Runfile(Args()[0]), (*daemon)->socket(), Runfile(Args()[2]), args);
  EXPECT_EQ(result.exit_code, 0)
      << result.output << "\n--- xehil-simd log ---\n"
      << (*daemon)->Log();
  EXPECT_NE(result.output.find("[  PASSED  ]"), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("[  SKIPPED ]"), std::string::npos)
      << "every case runs under the interposer, faults included:\n"
      << result.output;
}

}  // namespace
}  // namespace xehil::preload::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 4) {
    fprintf(stderr,
            "usage: %s <preload.so> <xehil-simd> <drm_conformance_main>\n",
            argv[0]);
    return 2;
  }
  xehil::preload::testing::Args().assign(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
