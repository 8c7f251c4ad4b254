#include "sim/preload/simd_link.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace xehil::preload {
namespace {

// The program may have made the socket non-blocking (fcntl(F_SETFL,
// O_NONBLOCK) on its DRM fd, which a kernel DRM fd takes in its stride):
// wait for it. Raw ppoll, because the interposer overrides poll and ppoll.
bool WaitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  long rc;
  do {
    rc = ::syscall(SYS_ppoll, &p, 1, nullptr, nullptr, 0);
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

int Send(int fd, const std::vector<uint8_t>& message, int pass_fd,
         std::string* why) {
  if (!simd::EncodedSizeOk(message)) {
    *why = "request larger than one message";
    return -EIO;
  }
  iovec iov{const_cast<uint8_t*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
  }
  ssize_t n;
  for (;;) {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd, POLLOUT)) {
      continue;
    }
    break;
  }
  if (n < 0) {
    *why = std::string("send to xehil-simd: ") + ErrnoName(errno);
    return -EIO;
  }
  return 0;
}

// One datagram into `rx`; its size, or -EIO.
ssize_t Receive(int fd, std::vector<uint8_t>* rx, std::string* why) {
  rx->resize(simd::kMaxMessageBytes);
  iovec iov{rx->data(), rx->size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  for (;;) {
    n = ::recvmsg(fd, &msg, 0);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFor(fd, POLLIN)) {
      continue;
    }
    break;
  }
  if (n < 0) {
    *why = std::string("receive from xehil-simd: ") + ErrnoName(errno);
    return -EIO;
  }
  if (n == 0) {
    *why = "xehil-simd closed the connection";
    return -EIO;
  }
  if (msg.msg_flags & MSG_TRUNC) {
    *why = "xehil-simd sent a message larger than the protocol allows";
    return -EIO;
  }
  return n;
}

}  // namespace

std::string ErrnoName(int err) {
  switch (err) {
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EINTR:
      return "EINTR";
    case EIO:
      return "EIO";
    case EBADF:
      return "EBADF";
    case EAGAIN:
      return "EAGAIN";
    case ENOMEM:
      return "ENOMEM";
    case EACCES:
      return "EACCES";
    case EFAULT:
      return "EFAULT";
    case ENOTDIR:
      return "ENOTDIR";
    case EINVAL:
      return "EINVAL";
    case EMFILE:
      return "EMFILE";
    case ENFILE:
      return "ENFILE";
    case ENOTTY:
      return "ENOTTY";
    case EPIPE:
      return "EPIPE";
    case ENAMETOOLONG:
      return "ENAMETOOLONG";
    case ENOTSOCK:
      return "ENOTSOCK";
    case EPROTO:
      return "EPROTO";
    case EPROTOTYPE:
      return "EPROTOTYPE";
    case ECONNRESET:
      return "ECONNRESET";
    case ECONNREFUSED:
      return "ECONNREFUSED";
    case ETIMEDOUT:
      return "ETIMEDOUT";
    case ENOPKG:
      return "ENOPKG";
    case EXDEV:
      return "EXDEV";
    default:
      return "errno " + std::to_string(err);
  }
}

int ConnectToDaemon(const char* socket_path, simd::Role role, bool cloexec,
                    CloseFn close_fn, simd::HelloReply* hello,
                    std::string* why) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(socket_path) >= sizeof(addr.sun_path)) {
    *why = std::string("socket path too long: ") + socket_path;
    return -ENAMETOOLONG;
  }
  std::strcpy(addr.sun_path, socket_path);
  int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | (cloexec ? SOCK_CLOEXEC : 0), 0);
  if (fd < 0) {
    int err = errno;
    *why = std::string("socket: ") + ErrnoName(err);
    return -err;
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    *why = std::string("connect ") + socket_path + ": " + ErrnoName(err);
    close_fn(fd);
    return -err;
  }
  simd::Hello request;
  request.role = role;
  request.pid = static_cast<uint32_t>(::getpid());
  request.program = program_invocation_short_name;
  std::vector<uint8_t> rx;
  simd::Message reply;
  rc = RoundTrip(fd, simd::EncodeHello(0, request), 0, -1, &rx, &reply, why);
  if (rc == 0 && reply.header.type !=
                     static_cast<uint16_t>(simd::MessageType::kHelloReply)) {
    *why = "xehil-simd did not answer hello with a hello";
    rc = -EIO;
  }
  if (rc != 0) {
    close_fn(fd);
    return rc;
  }
  *hello = reply.hello_reply;
  return fd;
}

int RoundTrip(int fd, const std::vector<uint8_t>& message, uint32_t seq,
              int pass_fd, std::vector<uint8_t>* rx, simd::Message* reply,
              std::string* why) {
  if (int rc = Send(fd, message, pass_fd, why); rc != 0) return rc;
  ssize_t n = Receive(fd, rx, why);
  if (n < 0) return static_cast<int>(n);
  std::string decode_error;
  if (!simd::Decode(rx->data(), static_cast<size_t>(n), reply, &decode_error)) {
    *why = "malformed message from xehil-simd: " + decode_error;
    return -EIO;
  }
  if (reply->header.type == static_cast<uint16_t>(simd::MessageType::kError)) {
    *why = "xehil-simd refused the request: " + reply->error.message;
    return -EIO;
  }
  // One request at a time per connection, and no caller gives up half-way,
  // so any other sequence number means the two ends lost track.
  if (reply->header.seq != seq) {
    *why = "xehil-simd answered request " + std::to_string(reply->header.seq) +
           " while " + std::to_string(seq) + " was pending";
    return -EIO;
  }
  return 0;
}

int SendOnly(int fd, const std::vector<uint8_t>& message, std::string* why) {
  return Send(fd, message, -1, why);
}

}  // namespace xehil::preload
