// Boots the vxe kernel under QEMU and checks what the guest reports
// (run_guest_tests.sh, guest_init.c, vxe_guest_test.c). Skips when this
// machine has no vxe kernel or no qemu.
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

TEST(VxeGuest, DriverControlDeviceAndDeviceModelPassInTheGuest) {
  const std::vector<std::string> args = ::testing::internal::GetArgvs();
  ASSERT_EQ(args.size(), 8u) << "the BUILD rule passes seven paths";
  // The kernel cache is per user; Bazel gives tests no HOME of their own.
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr) {
    setenv("HOME", pw->pw_dir, 1);
  }
  const char* tmp = getenv("TEST_TMPDIR");
  std::vector<std::string> command = {
      ShellQuote(args[1]),
      ShellQuote(absl::StrCat(tmp ? tmp : "/tmp", "/vxe-guest"))};
  for (size_t i = 2; i < args.size(); ++i)
    command.push_back(ShellQuote(args[i]));
  FILE* out =
      popen(absl::StrCat(absl::StrJoin(command, " "), " 2>&1").c_str(), "r");
  ASSERT_NE(out, nullptr);
  std::string output;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), out)) > 0)
    output.append(buffer, n);
  const int status = pclose(out);
  ASSERT_TRUE(WIFEXITED(status)) << output;
  std::vector<std::string> lines = absl::StrSplit(output, '\n');
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (WEXITSTATUS(status) == 77) {
    GTEST_SKIP() << (lines.empty() ? "no reason given" : lines.back());
  }
  ASSERT_EQ(WEXITSTATUS(status), 0) << output;
  for (const char* step : {"absent", "ctl", "served", "served daemon",
                           "example", "example daemon"}) {
    EXPECT_NE(output.find(absl::StrCat("vxe-init: ", step, ": ok")),
              std::string::npos)
        << step << " did not pass:\n"
        << output;
  }
  // Both device models saw the restart succeed (their status on exit).
  const size_t example = output.find("vxe-init: example status {");
  ASSERT_NE(example, std::string::npos) << output;
  EXPECT_NE(output.find("restarts_succeeded: 1"), std::string::npos) << output;
  EXPECT_NE(output.find("restarts_succeeded: 1", example), std::string::npos)
      << output;
  EXPECT_EQ(output.find("not ok"), std::string::npos) << output;
}

}  // namespace
