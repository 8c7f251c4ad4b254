#include "core/backend/drm_backend.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "core/uapi/watch_uapi.h"
#include "core/uapi/xe_uapi.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

// A fresh empty directory under the test's TEST_TMPDIR.
std::string MakeTempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string templ =
      absl::StrCat(base != nullptr ? base : "/tmp", "/dri.XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << ": " << DescribeErrno(errno);
  }
  return templ;
}

void Touch(const std::string& path) {
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path << ": " << DescribeErrno(errno);
  ::close(fd);
}

TEST(DrmBackend, OpenWithoutPathFindsXeOrSaysWhatIsMissing) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open();
  if (backend.ok()) {
    // An xe machine: the discovered node must describe itself.
    EXPECT_EQ((*backend)->Name(), "xe");
    EXPECT_THAT((*backend)->Description(), HasSubstr((*backend)->path()));
    return;
  }
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kNotFound)
      << backend.status();
  EXPECT_THAT(backend.status().message(),
              AnyOf(HasSubstr("no xe render node: /dev/dri"),
                    HasSubstr("none is driven by xe")));
}

TEST(DrmBackend, OpenOfMissingPathNamesThePathAndErrno) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend =
      DrmBackend::Open("/nonexistent/renderD128");
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(StatusErrno(backend.status()), -ENOENT);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("open /nonexistent/renderD128: -ENOENT"));
}

TEST(DrmBackend, OpenOfDirectoryIsAnErrnoNamingThePath) {
  std::string dir = MakeTempDir();
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open(dir);
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(StatusErrno(backend.status()), -EISDIR);
  EXPECT_THAT(backend.status().message(), HasSubstr(dir));
}

TEST(DrmBackend, OpenOfNonDrmFileIsFailedPrecondition) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend =
      DrmBackend::Open("/dev/null");
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(),
              HasSubstr("/dev/null is not a DRM device"));
}

// Where an xe node exists (a real GPU, or vxe in `xehil vm-run`), every open
// file has its own client id in fdinfo.
TEST(DrmBackend, EachOpenFileHasItsOwnClientId) {
  absl::StatusOr<std::unique_ptr<DrmBackend>> first = DrmBackend::Open();
  if (!first.ok()) GTEST_SKIP() << first.status();
  absl::StatusOr<std::unique_ptr<DrmBackend>> second =
      DrmBackend::Open((*first)->path());
  ASSERT_TRUE(second.ok()) << second.status();
  absl::StatusOr<uint64_t> a = (*first)->client_id();
  absl::StatusOr<uint64_t> b = (*second)->client_id();
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_GT(*a, 0u);
  EXPECT_NE(*a, *b);
  absl::StatusOr<uint64_t> again = ReadDrmClientId((*first)->fd());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, *a);
}

void WriteText(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path << ": " << DescribeErrno(errno);
  ASSERT_EQ(::write(fd, text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
  ::close(fd);
}

TEST(ReadDrmClientId, ParsesTheClientIdLineOfFdinfo) {
  const std::string dir = MakeTempDir();
  WriteText(dir + "/7",
            "pos:\t0\nflags:\t02100002\nmnt_id:\t23\nino:\t5\n"
            "drm-driver:\txe\ndrm-client-id:\t18446744073709551615\n"
            "drm-pdev:\t0000:03:00.0\n");
  absl::StatusOr<uint64_t> id = ReadDrmClientId(7, dir);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 18446744073709551615u);
}

TEST(ReadDrmClientId, NoClientIdLineIsNotFoundNamingTheFd) {
  const std::string dir = MakeTempDir();
  WriteText(dir + "/5", "pos:\t0\nflags:\t02\nmnt_id:\t23\nino:\t5\n");
  absl::StatusOr<uint64_t> id = ReadDrmClientId(5, dir);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound) << id.status();
  EXPECT_THAT(id.status().message(), HasSubstr("fd 5 has no drm-client-id"));
}

TEST(ReadDrmClientId, MalformedValueIsDataLoss) {
  const std::string dir = MakeTempDir();
  WriteText(dir + "/3", "drm-client-id:\t12abc\n");
  absl::StatusOr<uint64_t> id = ReadDrmClientId(3, dir);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kDataLoss) << id.status();
  EXPECT_THAT(id.status().message(), HasSubstr("12abc"));
}

TEST(ReadDrmClientId, NonDrmFileOfThisProcessIsNotFound) {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  absl::StatusOr<uint64_t> id = ReadDrmClientId(fd);
  ::close(fd);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kNotFound) << id.status();
  EXPECT_THAT(id.status().message(),
              HasSubstr(absl::StrCat("fd ", fd, " has no drm-client-id")));
}

TEST(ReadDrmClientId, ClosedDescriptorKeepsTheErrno) {
  absl::StatusOr<uint64_t> id = ReadDrmClientId(-1);
  EXPECT_EQ(StatusErrno(id.status()), -ENOENT) << id.status();
}

TEST(FindXeRenderNode, MissingDirectoryIsNotFoundNamingIt) {
  std::string dir = MakeTempDir() + "/dri";
  absl::StatusOr<std::string> node = FindXeRenderNode(dir);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(node.status().message(),
            absl::StrCat("no xe render node: ", dir, " does not exist"));
}

TEST(FindXeRenderNode, DirectoryWithoutRenderNodesIsNotFound) {
  std::string dir = MakeTempDir();
  Touch(dir + "/card0");  // a primary node alone is not enough
  absl::StatusOr<std::string> node = FindXeRenderNode(dir);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(node.status().message(),
            absl::StrCat("no xe render node: ", dir, " has no renderD* nodes"));
}

TEST(FindXeRenderNode, ListsEveryRenderNodeThatIsNotXe) {
  std::string dir = MakeTempDir();
  Touch(dir + "/renderD129");
  Touch(dir + "/renderD128");
  absl::StatusOr<std::string> node = FindXeRenderNode(dir);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(node.status().message(),
            "found render nodes but none is driven by xe: "
            "renderD128 (not a DRM device), renderD129 (not a DRM device)");
}

TEST(IoctlRetryingEintr, ReturnsZeroOrNegativeErrno) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  int queued = -1;
  EXPECT_EQ(IoctlRetryingEintr(fds[0], FIONREAD, &queued), 0);
  EXPECT_EQ(queued, 0);
  ::close(fds[0]);
  ::close(fds[1]);

  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  drm_xe_vm_restart restart{};
  EXPECT_EQ(IoctlRetryingEintr(null_fd, DRM_IOCTL_XE_VM_RESTART, &restart),
            -ENOTTY);
  ::close(null_fd);
  EXPECT_EQ(IoctlRetryingEintr(-1, FIONREAD, &queued), -EBADF);
}

TEST(OpenKernelNotificationPipe, RejectsRingSizeOutsideKernelLimits) {
  for (uint32_t notes : {0u, 513u}) {
    NotificationPipeOptions options;
    options.ring_notes = notes;
    absl::StatusOr<NotificationPipe> pipe = OpenKernelNotificationPipe(options);
    ASSERT_FALSE(pipe.ok()) << notes;
    EXPECT_EQ(pipe.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pipe.status().message(),
                HasSubstr(absl::StrCat("got ", notes)));
  }
}

TEST(OpenKernelNotificationPipe, RejectsEmptyOrOversizedFilter) {
  for (size_t entries : {size_t{0}, size_t{17}}) {
    NotificationPipeOptions options;
    options.filter.emplace(entries, watch_notification_type_filter{});
    absl::StatusOr<NotificationPipe> pipe = OpenKernelNotificationPipe(options);
    ASSERT_FALSE(pipe.ok()) << entries;
    EXPECT_EQ(pipe.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(pipe.status().message(), HasSubstr("1..16 entries"));
  }
}

// The development and CI kernels lack CONFIG_WATCH_QUEUE (build.md); on a
// kernel that has it, the pipe must work instead.
TEST(OpenKernelNotificationPipe, WorksOrNamesTheMissingKernelOption) {
  NotificationPipeOptions options;
  options.ring_notes = 32;
  watch_notification_type_filter entry{};
  entry.type = WATCH_TYPE_DRM_XE_NOTIFY;
  entry.subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  options.filter.emplace(1, entry);
  absl::StatusOr<NotificationPipe> pipe = OpenKernelNotificationPipe(options);
  if (pipe.ok()) {
    // Userspace cannot write into a notification pipe.
    char byte = 0;
    EXPECT_EQ(::write(pipe->write_end.get(), &byte, 1), -1);
    EXPECT_EQ(errno, EXDEV);
    return;
  }
  EXPECT_EQ(pipe.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusErrno(pipe.status()), -ENOPKG);
  EXPECT_THAT(
      pipe.status().message(),
      HasSubstr("kernel lacks watch-queue support (CONFIG_WATCH_QUEUE): "
                "pipe2(O_NOTIFICATION_PIPE) gave -ENOPKG"));
}

TEST(ProbeWatchQueueSupport, AgreesWithOpeningAPipe) {
  absl::Status probe = ProbeWatchQueueSupport();
  absl::StatusOr<NotificationPipe> pipe =
      OpenKernelNotificationPipe(NotificationPipeOptions{});
  EXPECT_EQ(probe, pipe.status());
  if (!probe.ok()) {
    EXPECT_THAT(probe.message(), HasSubstr("CONFIG_WATCH_QUEUE"));
    EXPECT_THAT(probe.message(), HasSubstr("-ENOPKG"));
  }
}

}  // namespace
}  // namespace xehil
