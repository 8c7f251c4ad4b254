// simd_link: the interposer's side of a connection to xehil-simd — connect
// and say hello, then one request and its reply at a time (sim/simd/wire.h).
// Only socket calls the interposer does not override, plus a caller-given
// close (the real one), so it is safe to use inside the overrides.
//
//   std::string why;
//   simd::HelloReply hello;
//   int fd = ConnectToDaemon(path, simd::Role::kDrmFile, /*cloexec=*/true,
//                            real_close, &hello, &why);   // fd or -errno
//   simd::Message reply;
//   int rc = RoundTrip(fd, simd::EncodeIoctl(seq, request), seq, -1, &rx,
//                      &reply, &why);                     // 0 or -EIO
//
// Not thread-safe per connection: callers serialise round trips on one fd.
#ifndef XEHIL_SIM_PRELOAD_SIMD_LINK_H_
#define XEHIL_SIM_PRELOAD_SIMD_LINK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sim/simd/wire.h"

namespace xehil::preload {

using CloseFn = int (*)(int);

// Connects a SOCK_SEQPACKET socket to `socket_path`, sends Hello{role, pid,
// program} and waits for the HelloReply. Returns the socket (close-on-exec
// if `cloexec`) or -errno: the connect() errno (-ENOENT, -ECONNREFUSED, ...)
// or -EIO for a daemon that answered wrongly. `why` says what failed.
int ConnectToDaemon(const char* socket_path, simd::Role role, bool cloexec,
                    CloseFn close_fn, simd::HelloReply* hello,
                    std::string* why);

// Sends `message` (with `pass_fd` attached by SCM_RIGHTS when >= 0) and
// receives the reply, which must answer `seq`, into `rx`. Returns 0 with
// `reply` decoded, or -EIO when the connection is lost or the daemon answers
// with an error or garbage (`why` says which).
int RoundTrip(int fd, const std::vector<uint8_t>& message, uint32_t seq,
              int pass_fd, std::vector<uint8_t>* rx, simd::Message* reply,
              std::string* why);

// Sends a message that has no reply (kReleasePipe). 0 or -EIO.
int SendOnly(int fd, const std::vector<uint8_t>& message, std::string* why);

// "ECONNREFUSED", "EIO", ...; "errno N" for the rare others. No strerror:
// it may load message catalogues inside an override.
std::string ErrnoName(int err);

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_SIMD_LINK_H_
