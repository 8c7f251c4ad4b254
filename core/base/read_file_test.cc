#include "core/base/read_file.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;

std::string TempFile(const std::string& name, const std::string& text) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path =
      std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  FILE* f = std::fopen(path.c_str(), "w");
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return path;
}

TEST(ReadFileToString, ReturnsEveryByte) {
  const std::string text(40000, 'x');
  absl::StatusOr<std::string> got = ReadFileToString(TempFile("a", text), "x");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, text);
}

TEST(ReadFileToString, MissingFileIsNotFoundNamingWhatAndErrno) {
  absl::StatusOr<std::string> got =
      ReadFileToString("/nonexistent/s.textproto", "scenario");
  EXPECT_EQ(got.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(),
              HasSubstr("cannot open scenario /nonexistent/s.textproto"));
  EXPECT_THAT(got.status().message(), HasSubstr("ENOENT"));
}

TEST(ReadFileToString, DirectoryIsTheReadErrno) {
  absl::StatusOr<std::string> got = ReadFileToString("/", "inventory");
  EXPECT_THAT(got.status().message(), HasSubstr("cannot read inventory /"));
  EXPECT_THAT(got.status().message(), HasSubstr("EISDIR"));
}

TEST(ReadFileToString, FileOverTheLimitIsInvalidArgument) {
  absl::StatusOr<std::string> got =
      ReadFileToString(TempFile("big", std::string(100, 'x')), "script", 10);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(got.status().message(), HasSubstr("larger than 10 bytes"));
}

}  // namespace
}  // namespace xehil
