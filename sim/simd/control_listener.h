// simd::ControlListener: a Unix SOCK_SEQPACKET socket speaking wire.h that
// serves control connections only, for a daemon whose DRM files come from
// elsewhere (the vxe daemon: the kernel owns the files and the pipes). A
// client says Hello as Role::kControl and then sends kControl messages, each
// answered by AnswerControl (control_service.h) on the target; any other
// role or message gets a kError saying why, and that connection is closed.
//
// Clients are not trusted: at most `max_connections` are served at once (the
// next gets kError EUSERS), a connection silent for `handshake_timeout_ms`
// before its Hello is dropped, malformed messages close only their
// connection. Each connection has its own thread, so a slow request (a
// wait_released) or a client that stops reading holds up only itself, never
// the thread that started the listener.
//
// Threads: one accept loop and one per connection, all owned. Stop() (or
// destruction) joins them and removes the socket file; the target must have
// ended its WaitReleased calls first (CANCELLED), since a connection thread
// inside one cannot see the stop.
//
//   ControlListenerOptions options;
//   options.socket_path = "/run/xehil-simd.sock";
//   XEHIL_ASSIGN_OR_RETURN(auto listener,
//                          ControlListener::Start(options, target));
#ifndef XEHIL_SIM_SIMD_CONTROL_LISTENER_H_
#define XEHIL_SIM_SIMD_CONTROL_LISTENER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/base/unique_fd.h"
#include "sim/simd/control_service.h"
#include "sim/simd/socket_io.h"

namespace xehil::simd {

struct ControlListenerOptions {
  std::string socket_path;
  int max_connections = 16;         // >= 1
  int handshake_timeout_ms = 5000;  // > 0
  // The kError message a Hello in another role gets (what to use instead).
  std::string other_roles_refused =
      "this daemon's socket serves control connections only";
  // One line per refused or dropped connection and protocol error.
  std::function<void(const std::string&)> log;
};

class ControlListener {
 public:
  // Listens on options.socket_path (a stale socket file is replaced, a live
  // daemon's is FailedPrecondition) and starts the accept loop. `target`
  // must outlive the listener.
  static absl::StatusOr<std::unique_ptr<ControlListener>> Start(
      ControlListenerOptions options, ControlTarget& target);
  ~ControlListener();
  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  // Idempotent; returns once every thread is joined.
  void Stop();

  const std::string& socket_path() const { return options_.socket_path; }

 private:
  struct Connection {
    uint64_t id = 0;
    UniqueFd fd;
    uint32_t peer_pid = 0;  // SO_PEERCRED at accept; 0 if unknown
    std::thread thread;
  };

  ControlListener(ControlListenerOptions options, ControlTarget& target);
  void AcceptLoop();
  void Accept();
  // Answers `fd` with a kError and keeps it until the client spoke or hung
  // up: closing a socket with unread data would reset the peer before it
  // reads why.
  void Refuse(UniqueFd fd, int negative_errno, const std::string& why);
  void Reap();
  void Serve(Connection& connection);
  // Handles one datagram of a connection; false ends the connection.
  bool Handle(Connection& connection, const std::vector<uint8_t>& bytes,
              bool* greeted);
  bool Violation(Connection& connection, uint32_t seq, int negative_errno,
                 const std::string& why);
  void Log(const std::string& line) const;

  const ControlListenerOptions options_;
  ControlTarget& target_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;        // eventfd: readable once stopping
  UniqueFd reap_fd_;        // eventfd: a connection thread finished
  SocketFile socket_file_;  // removed on exit if still ours
  std::thread accept_thread_;
  // Accept loop only; at most kMaxRefused.
  std::vector<UniqueFd> refused_;
  static constexpr size_t kMaxRefused = 16;
  absl::Mutex stop_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises Stop()
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;

  absl::Mutex mu_;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_
      ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ ABSL_GUARDED_BY(mu_);
  uint64_t next_connection_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CONTROL_LISTENER_H_
