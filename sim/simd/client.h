// simd::Client: a connection to xehil-simd for tools and tests (the
// LD_PRELOAD interposer has its own minimal client). Connect() says Hello in
// the given role; then typed calls send one message and wait for its reply,
// and raw SendDatagram()/Receive() let tests send anything at all.
//
//   XEHIL_ASSIGN_OR_RETURN(Client control,
//                          Client::Connect(path, Role::kControl, "xehil"));
//   sim::ControlRequest request;
//   request.mutable_status();
//   XEHIL_ASSIGN_OR_RETURN(sim::ControlReply reply, control.Control(request));
//   std::cout << reply.status().counters().records_posted();
//
// Not thread-safe; movable.
#ifndef XEHIL_SIM_SIMD_CLIENT_H_
#define XEHIL_SIM_SIMD_CLIENT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/base/unique_fd.h"
#include "proto/simd.pb.h"
#include "sim/simd/socket_io.h"
#include "sim/simd/wire.h"

namespace xehil::simd {

// The daemon's default socket: $XDG_RUNTIME_DIR/xehil-simd.sock, else
// /tmp/xehil-simd-$UID.sock.
std::string DefaultSocketPath();

class Client {
 public:
  // Connects and says Hello as `role`. A kError answer (e.g. the daemon is
  // at its connection limit) is an error carrying its message.
  static absl::StatusOr<Client> Connect(const std::string& path, Role role,
                                        const std::string& program = "xehil");
  // Connects without a Hello (for tests of the handshake itself).
  static absl::StatusOr<Client> ConnectRaw(const std::string& path);

  Client(Client&&) = default;
  Client& operator=(Client&&) = default;

  // kDrmFile: the file's id; every role: the device's description.
  uint64_t file_id() const { return file_id_; }
  const std::string& description() const { return description_; }
  int fd() const { return fd_.get(); }

  // kControl: one request; a reply with a non-OK code is that error.
  absl::StatusOr<sim::ControlReply> Control(const sim::ControlRequest& request);
  // kDrmFile: one ioctl round trip.
  absl::StatusOr<IoctlReply> Ioctl(const IoctlRequest& request);
  // kPipes: registers `write_end` (sent by SCM_RIGHTS; the caller keeps its
  // copy) and returns the Result (value: the pipe id).
  absl::StatusOr<Result> RegisterPipe(int write_end);
  absl::StatusOr<Result> PipeIoctl(const simd::PipeIoctl& request);
  absl::Status ReleasePipe(uint64_t pipe_id);

  // Raw access. Receive() decodes one message; a kError message is returned
  // as a message (type kError), EOF is OutOfRange, a malformed reply
  // DataLoss.
  absl::Status SendDatagram(const std::vector<uint8_t>& bytes,
                            const std::vector<int>& fds = {});
  absl::StatusOr<Message> Receive(int timeout_ms = kDefaultTimeoutMs);

  uint32_t next_seq() { return ++seq_; }

  static constexpr int kDefaultTimeoutMs = 60000;

 private:
  explicit Client(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends `bytes` and receives the reply of `type` with the same seq.
  absl::StatusOr<Message> RoundTrip(const std::vector<uint8_t>& bytes,
                                    MessageType type,
                                    const std::vector<int>& fds = {});

  UniqueFd fd_;
  Datagram rx_;  // its receive buffer is kept between replies
  uint32_t seq_ = 0;
  uint64_t file_id_ = 0;
  std::string description_;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CLIENT_H_
