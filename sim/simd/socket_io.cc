#include "sim/simd/socket_io.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "sim/simd/wire.h"

namespace xehil::simd {
namespace {

absl::StatusOr<sockaddr_un> Address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("socket path must be 1..", sizeof(address.sun_path) - 1,
                     " bytes long: '", path, "'"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

absl::StatusOr<UniqueFd> NewSocket() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoToStatus(-errno, "socket(AF_UNIX, SEQPACKET)");
  SizeSocketBuffers(fd.get());
  return fd;
}

int Connect(int fd, const sockaddr_un& address) {
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address),
                   sizeof(address));
  } while (rc != 0 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

// Waits for `events` on fd; Cancelled once stop_fd is readable.
absl::Status Wait(int fd, short events, int timeout_ms, int stop_fd,
                  short* revents) {
  pollfd fds[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
  const nfds_t count = stop_fd >= 0 ? 2 : 1;
  for (;;) {
    const int n = ::poll(fds, count, timeout_ms);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoToStatus(-errno, "poll");
    if (n == 0) return absl::DeadlineExceededError("no message in time");
    if (count == 2 && fds[1].revents != 0) {
      return absl::CancelledError("stopping");
    }
    *revents = fds[0].revents;
    return absl::OkStatus();
  }
}

bool PeerClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP)) != 0;
}

}  // namespace

void SizeSocketBuffers(int fd) {
  // The kernel doubles the value and caps it at net.core.[wr]mem_max; the
  // default cap still leaves room for one maximal datagram plus overhead.
  const int size = static_cast<int>(kMaxMessageBytes + 64 * 1024);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

absl::StatusOr<UniqueFd> ListenSeqpacket(const std::string& path) {
  absl::StatusOr<sockaddr_un> address = Address(path);
  if (!address.ok()) return address.status();
  absl::StatusOr<UniqueFd> fd = NewSocket();
  if (!fd.ok()) return fd.status();
  const auto* raw = reinterpret_cast<const sockaddr*>(&*address);
  if (::bind(fd->get(), raw, sizeof(*address)) != 0) {
    if (errno != EADDRINUSE) {
      return ErrnoToStatus(-errno, absl::StrCat("bind ", path));
    }
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat(path, " exists and is not a socket; not replacing it"));
    }
    absl::StatusOr<UniqueFd> probe = NewSocket();
    if (!probe.ok()) return probe.status();
    const int rc = Connect(probe->get(), *address);
    if (rc == 0 || rc == -EAGAIN) {
      return absl::FailedPreconditionError(
          absl::StrCat("a daemon is already listening on ", path,
                       " (stop it, or pick another --socket)"));
    }
    // Nobody answers: a dead daemon's socket file.
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoToStatus(-errno, absl::StrCat("remove stale socket ", path));
    }
    if (::bind(fd->get(), raw, sizeof(*address)) != 0) {
      return ErrnoToStatus(-errno, absl::StrCat("bind ", path));
    }
  }
  if (::listen(fd->get(), 64) != 0) {
    return ErrnoToStatus(-errno, absl::StrCat("listen on ", path));
  }
  return fd;
}

absl::StatusOr<UniqueFd> ConnectSeqpacket(const std::string& path) {
  absl::StatusOr<sockaddr_un> address = Address(path);
  if (!address.ok()) return address.status();
  absl::StatusOr<UniqueFd> fd = NewSocket();
  if (!fd.ok()) return fd.status();
  if (int rc = Connect(fd->get(), *address); rc != 0) {
    return ErrnoToStatus(rc, absl::StrCat("connect to xehil-simd at ", path));
  }
  return fd;
}

absl::Status SendDatagram(int fd, const std::vector<uint8_t>& bytes,
                          const std::vector<int>& fds, int stop_fd) {
  if (fds.size() > static_cast<size_t>(kMaxFdsPerDatagram)) {
    return absl::InvalidArgumentError("too many descriptors for one message");
  }
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    std::memset(control, 0, sizeof(control));
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return absl::OkStatus();
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      short revents = 0;
      absl::Status waited = Wait(fd, POLLOUT, -1, stop_fd, &revents);
      if (!waited.ok()) return waited;
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) {
      return absl::OutOfRangeError("connection closed");
    }
    return ErrnoToStatus(-errno, "sendmsg");
  }
}

absl::Status ReceiveDatagram(int fd, int timeout_ms, Datagram* out,
                             int stop_fd) {
  out->bytes.clear();
  out->fds.clear();
  out->truncated = false;
  out->fds_truncated = false;
  short revents = 0;
  absl::Status waited = Wait(fd, POLLIN, timeout_ms, stop_fd, &revents);
  if (!waited.ok()) return waited;

  // Into room for the largest message: one call, no peek at the length.
  if (out->scratch == nullptr) {
    out->scratch.reset(new (std::nothrow) uint8_t[kMaxMessageBytes]);
    if (out->scratch == nullptr) {
      return absl::ResourceExhaustedError("no memory for a receive buffer");
    }
  }
  iovec iov{out->scratch.get(), kMaxMessageBytes};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerDatagram)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    // MSG_TRUNC: the datagram's real length even when it did not fit.
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT | MSG_TRUNC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == ECONNRESET || errno == ENOTCONN) {
      return absl::OutOfRangeError("connection closed");
    }
    if (errno == EAGAIN) return absl::UnavailableError("no message after all");
    return ErrnoToStatus(-errno, "recvmsg");
  }
  // Take ownership of every descriptor first, whatever else is wrong.
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr;
       c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out->fds.emplace_back(received);
    }
  }
  out->fds_truncated = (msg.msg_flags & MSG_CTRUNC) != 0;
  out->truncated = (msg.msg_flags & MSG_TRUNC) != 0 ||
                   static_cast<size_t>(n) > kMaxMessageBytes;
  // recv() gives 0 both for an empty datagram and at EOF.
  if (n == 0 && out->fds.empty() && PeerClosed(fd)) {
    return absl::OutOfRangeError("connection closed");
  }
  const size_t kept =
      std::min<size_t>(static_cast<size_t>(n), kMaxMessageBytes);
  out->bytes.assign(out->scratch.get(), out->scratch.get() + kept);
  return absl::OkStatus();
}

SocketFile IdentifySocketFile(const std::string& path) {
  SocketFile file;
  file.path = path;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    file.dev = st.st_dev;
    file.ino = st.st_ino;
  }
  return file;
}

void RemoveSocketFileIfOurs(const SocketFile& file) {
  struct stat st;
  if (file.ino != 0 && ::lstat(file.path.c_str(), &st) == 0 &&
      st.st_dev == file.dev && st.st_ino == file.ino) {
    ::unlink(file.path.c_str());
  }
}

void SignalEventFd(int eventfd) {
  const uint64_t one = 1;
  while (::write(eventfd, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

void DrainEventFd(int eventfd) {
  uint64_t value;
  while (::read(eventfd, &value, sizeof(value)) < 0 && errno == EINTR) {
  }
}

uint32_t PeerPid(int fd) {
  ucred cred{};
  socklen_t size = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &size) != 0) return 0;
  return static_cast<uint32_t>(cred.pid);
}

}  // namespace xehil::simd
