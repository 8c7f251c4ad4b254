// Datagram I/O for xehil-simd's Unix SOCK_SEQPACKET sockets, shared by the
// daemon and the C++ client library: listen (replacing a stale socket file,
// refusing a live one), connect, send one datagram with optional SCM_RIGHTS
// descriptors, receive one with every descriptor it carried owned by the
// caller (so nothing leaks on any error path).
//
//   XEHIL_ASSIGN_OR_RETURN(UniqueFd fd, ConnectSeqpacket(path));
//   XEHIL_RETURN_IF_ERROR(SendDatagram(fd.get(), EncodeHello(1, hello)));
//   Datagram reply;
//   XEHIL_RETURN_IF_ERROR(ReceiveDatagram(fd.get(), -1, &reply));
#ifndef XEHIL_SIM_SIMD_SOCKET_IO_H_
#define XEHIL_SIM_SIMD_SOCKET_IO_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/unique_fd.h"

namespace xehil::simd {

// Most descriptors one datagram may carry into the receiver; more are
// dropped by the kernel and reported as `fds_truncated`.
inline constexpr int kMaxFdsPerDatagram = 8;

struct Datagram {
  std::vector<uint8_t> bytes;
  std::vector<UniqueFd> fds;   // SCM_RIGHTS, owned
  bool truncated = false;      // larger than kMaxMessageBytes
  bool fds_truncated = false;  // more descriptors than kMaxFdsPerDatagram
  // Room for the largest datagram, kept between ReceiveDatagram calls so
  // that one recvmsg takes any message without peeking at its length first
  // (never zeroed: pages not written to cost no memory).
  std::unique_ptr<uint8_t[]> scratch;
};

// Binds and listens on `path`. A socket file nobody answers on (a dead
// daemon's) is replaced; a live one is FailedPrecondition naming it; a path
// that exists but is not a socket is AlreadyExists (never removed).
absl::StatusOr<UniqueFd> ListenSeqpacket(const std::string& path);

// The socket file ListenSeqpacket made, identified by device and inode, so
// that its daemon removes it on exit only while it is still its own (a newer
// daemon may have replaced it).
struct SocketFile {
  std::string path;
  dev_t dev = 0;
  ino_t ino = 0;  // 0: nothing to remove
};
SocketFile IdentifySocketFile(const std::string& path);
void RemoveSocketFileIfOurs(const SocketFile& file);

// An eventfd: Signal adds one, Drain takes what is there (EINTR retried).
void SignalEventFd(int eventfd);
void DrainEventFd(int eventfd);

// The connecting process (SO_PEERCRED), or 0.
uint32_t PeerPid(int fd);

// Connects to the daemon at `path` (CLOEXEC, SO_SNDBUF sized for the
// largest message).
absl::StatusOr<UniqueFd> ConnectSeqpacket(const std::string& path);

// Sizes the socket's buffers for kMaxMessageBytes datagrams (best effort).
void SizeSocketBuffers(int fd);

// Sends one datagram without SIGPIPE. `stop_fd` (or -1): when sending would
// block, waits until the socket is writable or `stop_fd` is readable
// (Cancelled). A closed peer is OutOfRange.
absl::Status SendDatagram(int fd, const std::vector<uint8_t>& bytes,
                          const std::vector<int>& fds = {}, int stop_fd = -1);

// Receives one datagram, waiting up to `timeout_ms` (-1: forever) and
// returning early with Cancelled once `stop_fd` (or -1) is readable. EOF or
// a reset connection is OutOfRange; the timeout DeadlineExceeded.
absl::Status ReceiveDatagram(int fd, int timeout_ms, Datagram* out,
                             int stop_fd = -1);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_SOCKET_IO_H_
