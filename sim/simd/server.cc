// Server lifecycle: device, listening socket, accept loop, connection
// threads and their reaping, Stop(). Connections are in
// server_session.cc, the control channel in server_control.cc.
#include "sim/simd/server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "sim/simd/script.h"

namespace xehil::simd {
absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  if (options.max_clients < 1) {
    return absl::InvalidArgumentError("max_clients must be at least 1");
  }
  if (options.handshake_timeout_ms < 1) {
    return absl::InvalidArgumentError("handshake_timeout_ms must be positive");
  }
  // Start(), not Create(profile): a worker thread that cannot start is a
  // status here, never an abort.
  absl::StatusOr<std::shared_ptr<sim::Device>> started =
      options.profile.has_value() ? sim::Device::Start(*options.profile)
                                  : sim::Device::Create(options.device_profile);
  if (!started.ok()) return started.status();
  std::shared_ptr<sim::Device> device = *std::move(started);
  XEHIL_RETURN_IF_ERROR(ValidateScript(options.script, "script"));

  std::unique_ptr<Server> server(
      new Server(std::move(options), std::move(device)));
  server->spare_fd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  server->stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
  server->reap_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!server->stop_fd_.valid() || !server->reap_fd_.valid()) {
    return ErrnoToStatus(-errno, "eventfd");
  }
  XEHIL_ASSIGN_OR_RETURN(server->listen_fd_,
                         ListenSeqpacket(server->options_.socket_path));
  server->socket_file_ = IdentifySocketFile(server->options_.socket_path);
  Server* raw = server.get();
  try {
    server->accept_thread_ = std::thread([raw] { raw->AcceptLoop(); });
  } catch (const std::system_error& e) {
    // ~Server: Stop() finds no thread to join and removes the socket file.
    return ErrnoToStatus(e.code().value(),
                         "xehil-simd: starting the accept thread");
  }
  return server;
}

Server::Server(ServerOptions options, std::shared_ptr<sim::Device> device)
    : options_(std::move(options)),
      device_(std::move(device)),
      rules_(device_, [this](const std::string& line) { Log(line); }) {
  rules_.AddRules(options_.script);
}

Server::~Server() { Stop(); }

void Server::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void Server::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;  // WaitReleased's Await sees it on unlock
  }
  SignalEventFd(stop_fd_.get());
  if (accept_thread_.joinable()) accept_thread_.join();
  listen_fd_.reset();
  RemoveSocketFileIfOurs(socket_file_);
}

void Server::AcceptLoop() {
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
  // Stopping: every connection thread sees stop_fd_ and finishes its
  // session (releasing its file) before it is joined.
  std::map<uint64_t, std::unique_ptr<Connection>> connections;
  {
    absl::MutexLock lock(&mu_);
    connections.swap(connections_);
    finished_.clear();
  }
  for (auto& [id, connection] : connections) connection->thread.join();
}

void Server::Reap() {
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

void Server::Accept() {
  UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) {
    if (errno == EMFILE || errno == ENFILE) {
      // Out of descriptors: the pending connection would keep the listening
      // socket readable and this loop spinning. Free the spare descriptor,
      // accept and drop the client, take the spare back.
      spare_fd_.reset();
      UniqueFd dropped(
          ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      dropped.reset();
      spare_fd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      Log("out of file descriptors: a connection was dropped");
    }
    return;  // EAGAIN, ECONNABORTED: nothing to do
  }
  SizeSocketBuffers(fd.get());
  const uint32_t peer_pid = PeerPid(fd.get());
  absl::MutexLock lock(&mu_);
  if (live_ >= static_cast<size_t>(options_.max_clients) &&
      !EvictIdleLocked()) {
    counters_.set_connections_refused(counters_.connections_refused() + 1);
    const std::vector<uint8_t> refusal = EncodeError(
        0, {-EUSERS, absl::StrCat("xehil-simd serves at most ",
                                  options_.max_clients, " connections")});
    ::send(fd.get(), refusal.data(), refusal.size(),
           MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd.get(), SHUT_WR);  // the client sees EOF after the kError
    if (refused_.size() >= kMaxRefused) refused_.erase(refused_.begin());
    refused_.push_back(std::move(fd));
    return;
  }
  auto connection = std::make_unique<Connection>();
  connection->id = next_connection_++;
  connection->fd = std::move(fd);
  connection->peer_pid = peer_pid;
  Connection* raw = connection.get();
  try {
    raw->thread = std::thread([this, raw] { Serve(raw); });
  } catch (const std::system_error& e) {
    const std::vector<uint8_t> refusal =
        EncodeError(0, {-EAGAIN, "xehil-simd cannot start a thread for it"});
    ::send(raw->fd.get(), refusal.data(), refusal.size(),
           MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(raw->fd.get(), SHUT_WR);
    counters_.set_connections_refused(counters_.connections_refused() + 1);
    Log(absl::StrCat(
        "connection from pid ", peer_pid, " refused: ",
        ErrnoToStatus(e.code().value(), "starting its thread").message()));
    // Kept like any refused connection, so its Hello cannot reset it
    // before it reads why.
    if (refused_.size() >= kMaxRefused) refused_.erase(refused_.begin());
    refused_.push_back(std::move(raw->fd));
    return;
  }
  connections_[raw->id] = std::move(connection);
  ++live_;
}

bool Server::EvictIdleLocked() {
  for (auto& [id, connection] : connections_) {
    if (connection->greeted || connection->evicted) continue;
    char probe;
    if (::recv(connection->fd.get(), &probe, sizeof(probe),
               MSG_PEEK | MSG_DONTWAIT) >= 0 ||
        (errno != EAGAIN && errno != EWOULDBLOCK)) {
      continue;  // its Hello (or EOF) is on the way
    }
    connection->evicted = true;
    --live_;
    const std::string why =
        absl::StrCat("no Hello while all ", options_.max_clients,
                     " connections were taken; dropped to make room");
    const std::vector<uint8_t> error = EncodeError(0, {-ETIMEDOUT, why});
    ::send(connection->fd.get(), error.data(), error.size(),
           MSG_NOSIGNAL | MSG_DONTWAIT);
    // Its thread sees EOF and finishes; the fd closes once it is joined.
    ::shutdown(connection->fd.get(), SHUT_RDWR);
    Log(absl::StrCat("connection ", id, " (pid ", connection->peer_pid,
                     "): ", why));
    return true;
  }
  return false;
}

}  // namespace xehil::simd
