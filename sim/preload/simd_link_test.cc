#include "sim/preload/simd_link.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil::preload {
namespace {

using ::testing::HasSubstr;

int CloseFd(int fd) { return ::close(fd); }

// A socket path short enough for sun_path (TEST_TMPDIR is often too long).
std::string ShortSocketPath(const char* name) {
  char dir[] = "/tmp/xehil-link-XXXXXX";
  EXPECT_NE(::mkdtemp(dir), nullptr);
  return std::string(dir) + "/" + name;
}

void RemoveSocketPath(const std::string& path) {
  ::unlink(path.c_str());
  ::rmdir(path.substr(0, path.rfind('/')).c_str());
}

// Receives one datagram (and an SCM_RIGHTS descriptor, if any) on `fd`.
bool ReceiveOne(int fd, simd::Message* message, int* passed_fd) {
  std::vector<uint8_t> buffer(simd::kMaxMessageBytes);
  iovec iov{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  if (n <= 0) return false;
  *passed_fd = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      std::memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
    }
  }
  std::string why;
  return simd::Decode(buffer.data(), n, message, &why);
}

void SendAll(int fd, const std::vector<uint8_t>& bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// A connected SOCK_SEQPACKET pair: client_ for the code under test, server_
// for the fake daemon.
class SimdLinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
    client_ = fds[0];
    server_ = fds[1];
  }
  void TearDown() override {
    if (client_ >= 0) ::close(client_);
    if (server_ >= 0) ::close(server_);
  }
  int client_ = -1, server_ = -1;
};

TEST_F(SimdLinkTest, RoundTripPassesTheDescriptorAndDecodesTheReply) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  struct stat want {};
  ASSERT_EQ(::fstat(pipe_fds[1], &want), 0);
  std::thread daemon([this, &want] {
    simd::Message request;
    int passed = -1;
    ASSERT_TRUE(ReceiveOne(server_, &request, &passed));
    EXPECT_EQ(request.header.type,
              static_cast<uint16_t>(simd::MessageType::kRegisterPipe));
    ASSERT_GE(passed, 0);
    struct stat got {};
    EXPECT_EQ(::fstat(passed, &got), 0);
    EXPECT_EQ(got.st_ino, want.st_ino);
    ::close(passed);
    simd::Result result;
    result.value = 77;
    SendAll(server_, simd::EncodeResult(request.header.seq, result));
  });
  std::vector<uint8_t> rx;
  simd::Message reply;
  std::string why;
  ASSERT_EQ(RoundTrip(client_, simd::EncodeRegisterPipe(5), 5, pipe_fds[1], &rx,
                      &reply, &why),
            0)
      << why;
  daemon.join();
  EXPECT_EQ(reply.result.value, 77u);
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(SimdLinkTest, NonBlockingSocketStillWaitsForTheReply) {
  // Programs may set O_NONBLOCK on their DRM fd; an ioctl still blocks.
  ASSERT_EQ(::fcntl(client_, F_SETFL, O_NONBLOCK), 0);
  std::thread daemon([this] {
    simd::Message request;
    int passed = -1;
    ASSERT_TRUE(ReceiveOne(server_, &request, &passed));
    SendAll(server_, simd::EncodeResult(request.header.seq, {0, 5}));
  });
  std::vector<uint8_t> rx;
  simd::Message reply;
  std::string why;
  ASSERT_EQ(
      RoundTrip(client_, simd::EncodeRegisterPipe(4), 4, -1, &rx, &reply, &why),
      0)
      << why;
  daemon.join();
  EXPECT_EQ(reply.result.value, 5u);
}

TEST_F(SimdLinkTest, LostConnectionIsEio) {
  ::close(server_);
  server_ = -1;
  std::vector<uint8_t> rx;
  simd::Message reply;
  std::string why;
  EXPECT_EQ(
      RoundTrip(client_, simd::EncodeRegisterPipe(1), 1, -1, &rx, &reply, &why),
      -EIO);
  EXPECT_THAT(why, HasSubstr("xehil-simd"));
}

TEST_F(SimdLinkTest, DaemonClosingMidRequestIsEio) {
  std::thread daemon([this] {
    simd::Message request;
    int passed = -1;
    EXPECT_TRUE(ReceiveOne(server_, &request, &passed));
    ::shutdown(server_, SHUT_RDWR);
  });
  std::vector<uint8_t> rx;
  simd::Message reply;
  std::string why;
  EXPECT_EQ(
      RoundTrip(client_, simd::EncodeRegisterPipe(1), 1, -1, &rx, &reply, &why),
      -EIO);
  daemon.join();
  EXPECT_EQ(why, "xehil-simd closed the connection");
}

TEST_F(SimdLinkTest, ErrorMessageAndWrongSequenceAreEio) {
  std::thread daemon([this] {
    simd::Message request;
    int passed = -1;
    ASSERT_TRUE(ReceiveOne(server_, &request, &passed));
    simd::Error error;
    error.error = -EPROTO;
    error.message = "bad buffer flags";
    SendAll(server_, simd::EncodeError(request.header.seq, error));
    ASSERT_TRUE(ReceiveOne(server_, &request, &passed));
    SendAll(server_, simd::EncodeResult(request.header.seq + 1, {}));
  });
  std::vector<uint8_t> rx;
  simd::Message reply;
  std::string why;
  EXPECT_EQ(
      RoundTrip(client_, simd::EncodeRegisterPipe(1), 1, -1, &rx, &reply, &why),
      -EIO);
  EXPECT_EQ(why, "xehil-simd refused the request: bad buffer flags");
  EXPECT_EQ(
      RoundTrip(client_, simd::EncodeRegisterPipe(2), 2, -1, &rx, &reply, &why),
      -EIO);
  EXPECT_THAT(why, HasSubstr("answered request 3 while 2 was pending"));
  daemon.join();
}

TEST(ConnectToDaemon, MissingSocketIsTheConnectErrno) {
  std::string path = ShortSocketPath("no-such-simd.sock");
  simd::HelloReply hello;
  std::string why;
  EXPECT_EQ(ConnectToDaemon(path.c_str(), simd::Role::kPipes, true, &CloseFd,
                            &hello, &why),
            -ENOENT);
  EXPECT_EQ(why, "connect " + path + ": ENOENT");
  RemoveSocketPath(path);
}

TEST(ConnectToDaemon, OverlongSocketPathIsEnametoolong) {
  std::string path = "/tmp/" + std::string(200, 'x');
  simd::HelloReply hello;
  std::string why;
  EXPECT_EQ(ConnectToDaemon(path.c_str(), simd::Role::kPipes, true, &CloseFd,
                            &hello, &why),
            -ENAMETOOLONG);
  EXPECT_THAT(why, HasSubstr("socket path too long"));
}

TEST(ConnectToDaemon, SaysHelloWithRolePidAndProgram) {
  std::string path = ShortSocketPath("hello-simd.sock");
  int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof(addr.sun_path));
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
            0);
  ASSERT_EQ(::listen(listener, 1), 0);
  std::thread daemon([listener] {
    int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    simd::Message hello;
    int passed = -1;
    ASSERT_TRUE(ReceiveOne(conn, &hello, &passed));
    EXPECT_EQ(hello.hello.role, simd::Role::kDrmFile);
    EXPECT_EQ(hello.hello.pid, static_cast<uint32_t>(::getpid()));
    EXPECT_EQ(hello.hello.program, program_invocation_short_name);
    simd::HelloReply reply;
    reply.file_id = 3;
    reply.description = "simulated test device";
    SendAll(conn, simd::EncodeHelloReply(hello.header.seq, reply));
    ::close(conn);
  });
  simd::HelloReply hello;
  std::string why;
  int fd = ConnectToDaemon(path.c_str(), simd::Role::kDrmFile, true, &CloseFd,
                           &hello, &why);
  daemon.join();
  ASSERT_GE(fd, 0) << why;
  EXPECT_EQ(hello.file_id, 3u);
  EXPECT_EQ(hello.description, "simulated test device");
  EXPECT_EQ(::fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ::close(fd);
  ::close(listener);
  RemoveSocketPath(path);
}

}  // namespace
}  // namespace xehil::preload
