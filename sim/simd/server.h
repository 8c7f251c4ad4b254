// simd::Server: the xehil-simd daemon. It owns one sim::Device and serves it
// on a Unix SOCK_SEQPACKET socket speaking sim/simd/wire.h:
//  - a kDrmFile connection is one open DRM file (DrmFile); when the
//    connection goes (close, exit, SIGKILL) the file is released: removal
//    records are posted, VMs, BOs and exec queues destroyed;
//  - a kPipes connection registers notification-pipe write ends
//    (PipeRegistry); its pipes are released when it goes;
//  - a kControl connection carries xehil.sim.ControlRequest/ControlReply
//    (status, pressure, per-file faults, rules, waits).
// Script rules (RuleEngine) fire on the files' events.
//
// Robustness: a malformed datagram (bad magic, truncated, oversized, unknown
// type, a message of the wrong role, descriptors where none belong, ...) gets
// a best-effort kError reply and that connection is closed; the daemon and
// every other connection carry on. At most `max_clients` connections are
// served at once; the next gets kError and is closed. A connection must say
// Hello within `handshake_timeout_ms`, and while every slot is taken a new
// connection displaces the oldest one that has not said Hello and has
// nothing queued: idle connections cannot shut healthy clients out. Both
// drops are logged with the connection's pid. A thread that cannot be
// started is an error (Start) or a refused connection, never a crash.
//
// Threads: one accept loop and one thread per connection, all owned; Stop()
// (or destruction) wakes and joins them, releases every file and removes the
// socket file.
//
//   ServerOptions options;
//   options.socket_path = "/run/user/1000/xehil-simd.sock";
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<Server> server,
//                          Server::Start(std::move(options)));
//   ...
//   server->Stop();
#ifndef XEHIL_SIM_SIMD_SERVER_H_
#define XEHIL_SIM_SIMD_SERVER_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/base/unique_fd.h"
#include "proto/simd.pb.h"
#include "sim/device.h"
#include "sim/simd/pipe_registry.h"
#include "sim/simd/rules.h"
#include "sim/simd/socket_io.h"
#include "sim/simd/wire.h"

namespace xehil::simd {

struct ServerOptions {
  std::string socket_path;
  // A built-in profile by name, unless `profile` is given (tests).
  std::string device_profile = "dg2-16g";
  std::optional<sim::DeviceProfile> profile;
  sim::SimdScript script;  // validated by the caller (LoadScriptFile)
  int max_clients = 256;
  // How long a new connection may stay silent before its Hello (> 0).
  int handshake_timeout_ms = 5000;
  // One line per file open/release, rule firing and protocol error.
  std::function<void(const std::string&)> log;
};

class Server {
 public:
  // Creates the device, listens and starts the accept loop.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Idempotent; returns once every thread is joined.
  void Stop();

  const std::string& socket_path() const { return options_.socket_path; }
  const std::shared_ptr<sim::Device>& device() const { return device_; }

  // What a status request answers.
  sim::DeviceStatus Status() const;
  // Runs one control request (what a kControl message gets).
  sim::ControlReply Control(const sim::ControlRequest& request);

 private:
  struct Connection {
    uint64_t id = 0;
    UniqueFd fd;
    uint32_t peer_pid = 0;  // SO_PEERCRED at accept; 0 if unknown
    std::thread thread;
    // Guarded by Server::mu_, unchecked: clang's analysis cannot name the
    // enclosing object's mutex from a nested struct.
    bool greeted = false;  // Hello seen
    bool evicted = false;  // dropped to make room
  };
  struct OpenFileEntry {
    uint32_t pid = 0;
    std::string program;
    uint32_t watches = 0;
  };
  class Session;  // server_session.cc

  Server(ServerOptions options, std::shared_ptr<sim::Device> device);
  void AcceptLoop();
  void Accept();
  void Reap();
  // Drops the oldest connection still waiting for its Hello with nothing
  // queued; false if there is none.
  bool EvictIdleLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Serve(Connection* connection);
  void Log(const std::string& line) const;

  // What one client process did (DeviceStatus.processes).
  struct ProcessCounts {
    uint32_t ppid = 0;
    uint64_t seq = 0;  // when it was first seen, to forget the oldest
    uint64_t opened = 0, released = 0;
    std::map<std::string, std::map<int, uint64_t>> ioctls;
  };
  static constexpr size_t kMaxProcesses = 4096;
  ProcessCounts& ProcessLocked(uint32_t pid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(processes_mu_);
  void CountProcessFile(uint32_t pid, bool opened);
  void CountProcessIoctl(uint32_t pid, uint64_t request, int result);

  // server_control.cc: the ControlTarget of RunControl (control_service.h).
  class ControlView;
  // The kControlReply message answering a kControl message's payload.
  std::vector<uint8_t> AnswerControlMessage(
      uint32_t seq, const std::vector<uint8_t>& payload);

  ServerOptions options_;
  const std::shared_ptr<sim::Device> device_;
  PipeRegistry pipes_;
  RuleEngine rules_;
  UniqueFd listen_fd_;
  UniqueFd stop_fd_;   // eventfd: readable once stopping
  UniqueFd reap_fd_;   // eventfd: a connection thread finished
  UniqueFd spare_fd_;  // freed to shed a connection when out of descriptors
  SocketFile socket_file_;  // removed on exit if still ours
  // Refused connections (over max_clients), answered with kError and kept
  // until the client's Hello arrives or it hangs up: closing a socket with
  // unread data would reset the peer before it reads the kError. Accept
  // loop only; at most kMaxRefused.
  std::vector<UniqueFd> refused_;
  static constexpr size_t kMaxRefused = 64;
  std::thread accept_thread_;
  absl::Mutex stop_mu_ ABSL_ACQUIRED_BEFORE(mu_);  // serialises Stop()
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;

  // Before RuleEngine's and Device's locks. Waiters on files_ Await a
  // file's release (or stopping_) on it.
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_
      ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> finished_ ABSL_GUARDED_BY(mu_);
  // Connections whose session has not finished.
  size_t live_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_connection_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<sim::FileId, OpenFileEntry> files_ ABSL_GUARDED_BY(mu_);
  sim::DaemonCounters counters_ ABSL_GUARDED_BY(mu_);

  // Its own lock: every ioctl counts here, and must not wait for mu_
  // (a file's open counts here under mu_).
  mutable absl::Mutex processes_mu_ ABSL_ACQUIRED_AFTER(mu_);
  std::map<uint32_t, ProcessCounts> processes_ ABSL_GUARDED_BY(processes_mu_);
  uint64_t next_process_seq_ ABSL_GUARDED_BY(processes_mu_) = 0;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_SERVER_H_
