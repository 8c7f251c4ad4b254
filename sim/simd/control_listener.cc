#include "sim/simd/control_listener.h"

#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "sim/simd/socket_io.h"
#include "sim/simd/wire.h"

namespace xehil::simd {
absl::StatusOr<std::unique_ptr<ControlListener>> ControlListener::Start(
    ControlListenerOptions options, ControlTarget& target) {
  if (options.max_connections < 1) {
    return absl::InvalidArgumentError("max_connections must be at least 1");
  }
  if (options.handshake_timeout_ms < 1) {
    return absl::InvalidArgumentError("handshake_timeout_ms must be positive");
  }
  std::unique_ptr<ControlListener> listener(
      new ControlListener(std::move(options), target));
  listener->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  listener->reap_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!listener->stop_fd_.valid() || !listener->reap_fd_.valid()) {
    return ErrnoToStatus(-errno, "eventfd");
  }
  XEHIL_ASSIGN_OR_RETURN(listener->listen_fd_,
                         ListenSeqpacket(listener->options_.socket_path));
  listener->socket_file_ = IdentifySocketFile(listener->options_.socket_path);
  ControlListener* raw = listener.get();
  try {
    listener->accept_thread_ = std::thread([raw] { raw->AcceptLoop(); });
  } catch (const std::system_error& e) {
    // ~ControlListener finds no thread to join and removes the socket file.
    return ErrnoToStatus(e.code().value(), "starting the control socket");
  }
  return listener;
}

ControlListener::ControlListener(ControlListenerOptions options,
                                 ControlTarget& target)
    : options_(std::move(options)), target_(target) {}

ControlListener::~ControlListener() { Stop(); }

void ControlListener::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void ControlListener::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (stop_fd_.valid()) SignalEventFd(stop_fd_.get());
  if (accept_thread_.joinable()) accept_thread_.join();
  listen_fd_.reset();
  RemoveSocketFileIfOurs(socket_file_);
}

void ControlListener::AcceptLoop() {
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign({{stop_fd_.get(), POLLIN, 0},
                {reap_fd_.get(), POLLIN, 0},
                {listen_fd_.get(), POLLIN, 0}});
    for (const UniqueFd& fd : refused_) fds.push_back({fd.get(), POLLIN, 0});
    const int n = ::poll(fds.data(), fds.size(), -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[0].revents != 0) break;
    // Refused clients that spoke or hung up: drain, then close quietly.
    for (size_t i = fds.size(); i-- > 3;) {
      if (fds[i].revents == 0) continue;
      char sink[64];
      while (::recv(fds[i].fd, sink, sizeof(sink), MSG_DONTWAIT) > 0) {
      }
      refused_.erase(refused_.begin() + static_cast<ptrdiff_t>(i - 3));
    }
    if (fds[1].revents != 0) {
      DrainEventFd(reap_fd_.get());
      Reap();
    }
    if (fds[2].revents != 0) Accept();
  }
  refused_.clear();
  // Every connection thread sees stop_fd_ and finishes before it is joined.
  std::map<uint64_t, std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
    finished_.clear();
  }
  for (auto& [id, connection] : connections) connection->thread.join();
}

void ControlListener::Reap() {
  std::vector<std::unique_ptr<Connection>> done;
  {
    absl::MutexLock lock(&mu_);
    for (uint64_t id : finished_) {
      auto it = connections_.find(id);
      if (it == connections_.end()) continue;
      done.push_back(std::move(it->second));
      connections_.erase(it);
    }
    finished_.clear();
  }
  for (auto& connection : done) connection->thread.join();
}

void ControlListener::Refuse(UniqueFd fd, int negative_errno,
                             const std::string& why) {
  const std::vector<uint8_t> refusal = EncodeError(0, {negative_errno, why});
  ::send(fd.get(), refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd.get(), SHUT_WR);  // the client sees EOF after the kError
  if (refused_.size() >= kMaxRefused) refused_.erase(refused_.begin());
  refused_.push_back(std::move(fd));
}

void ControlListener::Accept() {
  UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) return;  // EAGAIN, ECONNABORTED, out of descriptors
  SizeSocketBuffers(fd.get());
  const uint32_t peer_pid = PeerPid(fd.get());
  absl::MutexLock lock(&mu_);
  const size_t live = connections_.size() - finished_.size();
  if (live >= static_cast<size_t>(options_.max_connections)) {
    Log(absl::StrCat("control connection from pid ", peer_pid, " refused: all ",
                     options_.max_connections, " are taken"));
    Refuse(std::move(fd), -EUSERS,
           absl::StrCat("xehil-simd serves at most ", options_.max_connections,
                        " control connections"));
    return;
  }
  auto connection = std::make_unique<Connection>();
  connection->id = next_connection_++;
  connection->fd = std::move(fd);
  connection->peer_pid = peer_pid;
  Connection* raw = connection.get();
  try {
    raw->thread = std::thread([this, raw] { Serve(*raw); });
  } catch (const std::system_error& e) {
    Log(absl::StrCat(
        "control connection from pid ", peer_pid, " refused: ",
        ErrnoToStatus(e.code().value(), "starting its thread").message()));
    Refuse(std::move(raw->fd), -EAGAIN,
           "xehil-simd cannot start a thread for it");
    return;
  }
  connections_[raw->id] = std::move(connection);
}

void ControlListener::Serve(Connection& connection) {
  bool greeted = false;
  Datagram datagram;
  for (;;) {
    // Before its Hello a connection holds a slot for nothing: bounded.
    const int timeout = greeted ? -1 : options_.handshake_timeout_ms;
    absl::Status received = ReceiveDatagram(connection.fd.get(), timeout,
                                            &datagram, stop_fd_.get());
    if (received.code() == absl::StatusCode::kDeadlineExceeded) {
      Violation(connection, 0, -ETIMEDOUT,
                absl::StrCat("no Hello within ", options_.handshake_timeout_ms,
                             " ms; dropped"));
      break;
    }
    if (!received.ok()) break;  // closed, reset or stopping
    if (datagram.truncated) {
      Violation(
          connection, 0, -EPROTO,
          absl::StrCat("message larger than ", kMaxMessageBytes, " bytes"));
      break;
    }
    if (!datagram.fds.empty() || datagram.fds_truncated) {
      Violation(connection, 0, -EPROTO, "descriptors attached");
      break;
    }
    if (!Handle(connection, datagram.bytes, &greeted)) break;
  }
  // The client sees EOF at once, even before the thread is joined.
  ::shutdown(connection.fd.get(), SHUT_RDWR);
  {
    absl::MutexLock lock(&mu_);
    finished_.push_back(connection.id);
  }
  SignalEventFd(reap_fd_.get());
}

bool ControlListener::Handle(Connection& connection,
                             const std::vector<uint8_t>& bytes, bool* greeted) {
  Message message;
  std::string why;
  if (!Decode(bytes.data(), bytes.size(), &message, &why)) {
    return Violation(connection, 0, -EPROTO,
                     absl::StrCat("malformed message: ", why));
  }
  const uint32_t seq = message.header.seq;
  const auto type = static_cast<MessageType>(message.header.type);
  if (!*greeted) {
    if (type != MessageType::kHello) {
      return Violation(connection, seq, -EPROTO, "expected Hello");
    }
    if (message.hello.role != Role::kControl) {
      return Violation(connection, seq, -EOPNOTSUPP,
                       options_.other_roles_refused);
    }
    *greeted = true;
    HelloReply reply;
    reply.description = target_.ControlDevice().Description();
    return SendDatagram(connection.fd.get(), EncodeHelloReply(seq, reply), {},
                        stop_fd_.get())
        .ok();
  }
  if (type != MessageType::kControl) {
    return Violation(connection, seq, -EPROTO,
                     "only Control messages are valid on a control "
                     "connection");
  }
  return SendDatagram(connection.fd.get(),
                      AnswerControl(target_, seq, message.payload), {},
                      stop_fd_.get())
      .ok();
}

bool ControlListener::Violation(Connection& connection, uint32_t seq,
                                int negative_errno, const std::string& why) {
  Log(absl::StrCat("control connection ", connection.id, " (pid ",
                   connection.peer_pid, "): ", why, "; closing it"));
  const std::vector<uint8_t> error = EncodeError(seq, {negative_errno, why});
  ::send(connection.fd.get(), error.data(), error.size(),
         MSG_NOSIGNAL | MSG_DONTWAIT);
  return false;
}

}  // namespace xehil::simd
