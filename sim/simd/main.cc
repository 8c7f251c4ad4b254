// xehil-simd: one simulated Xe device shared by every process that connects
// to its socket. See `xehil-simd --help` and sim/simd/server.h.
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/unique_fd.h"
#include "google/protobuf/text_format.h"
#include "sim/device_profile.h"
#include "sim/simd/client.h"
#include "sim/simd/script.h"
#include "sim/simd/server.h"
#include "sim/simd/vxe_server.h"
#include "common/flags.h"

ABSL_FLAG(std::string, socket, "",
          "Unix socket to listen on (default $XDG_RUNTIME_DIR/xehil-simd.sock, "
          "else /tmp/xehil-simd-$UID.sock).");
ABSL_FLAG(std::string, device_profile, "dg2-16g",
          "Simulated device: dg2-16g, bmg-12g or lnl-igpu.");
ABSL_FLAG(std::string, script, "",
          "Fault script: a text-format xehil.sim.SimdScript.");
ABSL_FLAG(int, max_clients, 256, "Connections served at once (1..4096).");
ABSL_FLAG(int, owner_pid, 0,
          "A private daemon of this parent: stop when it dies, then remove "
          "the socket's directory.");
ABSL_FLAG(int, handshake_timeout_ms, 5000,
          "How long a new connection may wait before its Hello (1..600000).");
ABSL_FLAG(std::string, vxe_control, "",
          "Serve the vxe kernel driver's control device (e.g. /dev/vxe_ctl) "
          "instead of a socket.");
ABSL_FLAG(std::string, vxe_status_file, "",
          "With --vxe_control: write the device status (text-format "
          "xehil.sim.DeviceStatus) to this file on exit.");

namespace {

constexpr char kUsage[] =
    R"(usage: xehil-simd [--socket=PATH] [--device-profile=NAME] [--script=FILE]
                  [--max-clients=N] [--handshake-timeout-ms=MS]
                  [--owner-pid=PID]
       xehil-simd --vxe-control=/dev/vxe_ctl [--socket=PATH]
                  [--vxe-status-file=FILE] [--device-profile=NAME]
                  [--script=FILE] [--max-clients=N]
                  [--handshake-timeout-ms=MS]

Serves one simulated Xe GPU on a Unix socket so that unmodified programs
(through the LD_PRELOAD interposer, see `xehil sim-run`) and tools share it:
every connection of a program's DRM file is one open file of the device.
Prints "listening on PATH" when ready; logs file opens and releases, rule
firings and protocol errors to stderr. SIGTERM or SIGINT: clean shutdown
(files released, socket removed).

With --vxe-control it serves the same device to the vxe kernel driver (a
real render node, vxe/README.md) through its control device instead: the
kernel forwards xe ioctls and takes VM_ERR records back to post them on its
own notification pipes. With --socket as well, the socket serves control
connections only (status, pressure, apply, add_rules, waits; other roles
are refused), where files are named by their kernel file id: the
drm-client-id a program reads in /proc/self/fdinfo/FD for its own file.
--max-clients and --handshake-timeout-ms bound those connections. Prints
"ready" once serving. Exits 0 on SIGTERM or SIGINT, 1 if the control device
cannot be opened or goes away, or the socket cannot be made.

flags:
  --socket=PATH          default $XDG_RUNTIME_DIR/xehil-simd.sock, else
                         /tmp/xehil-simd-$UID.sock; a stale socket file is
                         replaced, a live daemon's is an error; with
                         --vxe-control: the control socket (none by default)
  --device-profile=NAME  dg2-16g (default), bmg-12g, lnl-igpu
  --script=FILE          fault rules (text-format xehil.sim.SimdScript,
                         proto/simd.proto), e.g.
                           rule { when { watch_subscribed {} }
                                  action { fail_rebinds { error: ERRNO_ENOMEM } }
                                  action { trigger_rebind {} } }
  --max-clients=N        connections at once, 1..4096 (default 256); while
                         all are taken, a new connection displaces the
                         oldest one that has not said Hello yet
  --handshake-timeout-ms=MS
                         a connection silent this long before its Hello is
                         dropped (and logged), 1..600000 (default 5000)
  --owner-pid=PID        private daemon of its parent PID (`xehil sim-run`):
                         stops as on SIGTERM when PID dies (even by SIGKILL),
                         then removes the socket's directory if it is empty
  --vxe-control=PATH     serve the vxe driver's control device (/dev/vxe_ctl)
                         instead of DRM files on a socket
  --vxe-status-file=FILE with --vxe-control: the device status (text-format
                         xehil.sim.DeviceStatus) is written there on exit
  --help                 this text

exit codes: 0 stopped by a signal, 1 could not start, 2 usage error
)";

absl::Mutex log_mu;

void LogLine(const std::string& line) {
  absl::MutexLock lock(&log_mu);
  std::cerr << "xehil-simd: " << line << std::endl;
}

// Serves the vxe control device on this thread until a stop signal, and
// control connections on `control_socket` (if any) on the server's own.
int RunVxe(const std::string& path, const std::string& status_file,
           const std::string& control_socket,
           xehil::simd::ServerOptions socket_options) {
  xehil::simd::VxeServerOptions options;
  options.device_profile = socket_options.device_profile;
  options.script = std::move(socket_options.script);
  options.log = LogLine;
  options.control_socket = control_socket;
  options.max_control_connections = socket_options.max_clients;
  options.handshake_timeout_ms = socket_options.handshake_timeout_ms;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  xehil::UniqueFd stop(signalfd(-1, &stop_signals, SFD_CLOEXEC));
  if (!stop.valid()) {
    LogLine(absl::StrCat("signalfd: ", strerror(errno)));
    return 1;
  }
  absl::StatusOr<std::unique_ptr<xehil::simd::VxeServer>> server =
      xehil::simd::VxeServer::Open(path, std::move(options));
  if (!server.ok()) {
    LogLine(std::string(server.status().message()));
    return 1;
  }
  LogLine(absl::StrCat((*server)->device()->Description(), " on ", path,
                       control_socket.empty()
                           ? ""
                           : absl::StrCat(", control on ", control_socket)));
  std::printf("ready\n");
  std::fflush(stdout);
  absl::Status ended = (*server)->Serve(stop.get());
  if (!status_file.empty()) {
    std::string text;
    google::protobuf::TextFormat::PrintToString((*server)->Status(), &text);
    std::ofstream out(status_file, std::ios::trunc);
    out << text;
    if (!out.flush()) LogLine(absl::StrCat("cannot write ", status_file));
  }
  if (!ended.ok()) {
    LogLine(absl::StrCat("stopped: ", ended.message()));
    return 1;
  }
  LogLine("signal: stopping");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A value no path can have goes in before parsing, so an explicit empty
  // --socket= is told apart from no --socket at all (which in vxe mode means
  // no control socket).
  const std::string kNoSocket(1, '\0');
  absl::SetFlag(&FLAGS_socket, kNoSocket);
  std::vector<std::string> args = xehil::ParseFlagsOrExit(argc, argv, kUsage);
  if (!args.empty()) {
    xehil::UsageError(absl::StrCat("unexpected argument '", args[0], "'"),
                      kUsage);
  }
  const bool socket_given = absl::GetFlag(FLAGS_socket) != kNoSocket;
  xehil::simd::ServerOptions options;
  options.socket_path = socket_given ? absl::GetFlag(FLAGS_socket)
                                     : xehil::simd::DefaultSocketPath();
  if (options.socket_path.empty()) {
    xehil::UsageError("--socket needs a path", kUsage);
  }
  options.max_clients = absl::GetFlag(FLAGS_max_clients);
  if (absl::GetFlag(FLAGS_owner_pid) < 0) {
    xehil::UsageError("--owner-pid must be a process id", kUsage);
  }
  if (options.max_clients < 1 || options.max_clients > 4096) {
    xehil::UsageError("--max-clients must be between 1 and 4096", kUsage);
  }
  options.handshake_timeout_ms = absl::GetFlag(FLAGS_handshake_timeout_ms);
  if (options.handshake_timeout_ms < 1 ||
      options.handshake_timeout_ms > 600000) {
    xehil::UsageError("--handshake-timeout-ms must be between 1 and 600000",
                      kUsage);
  }
  options.device_profile = absl::GetFlag(FLAGS_device_profile);
  if (absl::StatusOr<xehil::sim::DeviceProfile> profile =
          xehil::sim::FindProfile(options.device_profile);
      !profile.ok()) {
    xehil::UsageError(profile.status().message(), kUsage);
  }
  const std::string script = absl::GetFlag(FLAGS_script);
  if (!script.empty()) {
    absl::StatusOr<xehil::sim::SimdScript> loaded =
        xehil::simd::LoadScriptFile(script);
    if (!loaded.ok()) {
      std::cerr << "xehil-simd: bad --script:\n"
                << loaded.status().message() << "\n";
      return xehil::kExitUsage;
    }
    options.script = *std::move(loaded);
  }
  options.log = LogLine;
  const std::string vxe_control = absl::GetFlag(FLAGS_vxe_control);
  const std::string vxe_status_file = absl::GetFlag(FLAGS_vxe_status_file);
  if (!vxe_status_file.empty() && vxe_control.empty()) {
    xehil::UsageError("--vxe-status-file needs --vxe-control", kUsage);
  }
  if (!vxe_control.empty()) {
    const std::string control_socket = socket_given ? options.socket_path : "";
    return RunVxe(vxe_control, vxe_status_file, control_socket,
                  std::move(options));
  }

  // Signals are taken by sigwait() below: block them before any thread
  // starts so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  const int owner = absl::GetFlag(FLAGS_owner_pid);
  if (owner != 0) {
    // The owner's death sends the SIGTERM that sigwait() below takes. It may
    // have died before prctl: then the parent is already someone else.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != owner) {
      LogLine(absl::StrCat("owner ", owner, " is not the parent (", ::getppid(),
                           "): not starting"));
      return 1;
    }
  }

  absl::StatusOr<std::unique_ptr<xehil::simd::Server>> server =
      xehil::simd::Server::Start(std::move(options));
  if (!server.ok()) {
    LogLine(std::string(server.status().message()));
    return 1;
  }
  if (!script.empty()) {
    LogLine(
        absl::StrCat((*server)->Status().rules_size(), " rules from ", script));
  }
  LogLine((*server)->device()->Description());
  std::printf("listening on %s\n", (*server)->socket_path().c_str());
  std::fflush(stdout);

  int received = 0;
  while (sigwait(&stop_signals, &received) != 0) {
  }
  LogLine(absl::StrCat("signal ", received, " (", strsignal(received),
                       "): stopping"));
  const std::string socket_path = (*server)->socket_path();
  (*server)->Stop();
  server->reset();
  if (owner != 0) {
    const std::string dir = socket_path.substr(0, socket_path.rfind('/'));
    ::unlink(socket_path.c_str());
    if (!dir.empty() && ::rmdir(dir.c_str()) != 0) {
      LogLine(absl::StrCat("cannot remove ", dir, ": ", strerror(errno)));
    }
  }
  return 0;
}
