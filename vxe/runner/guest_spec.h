// What the host runner and the guest init tell each other through the run
// directory (a virtio-9p share mounted at /run/xehil in the guest): the run
// to do (`spec`) and how it ended (`status`). Plain C++ and libc only, so
// the static guest init links it without Abseil.
//
//   GuestSpec spec;
//   spec.argv = {"/bin/echo", "hello"};
//   spec.cwd = "/home/me";
//   WriteFile(dir + "/spec", EncodeGuestSpec(spec));
//   ...in the guest:
//   std::string error;
//   if (!DecodeGuestSpec(text, &spec, &error)) Fail(error);
//
// Encoding: one field per entry, `NAME LENGTH:BYTES\n`, so values may hold
// any byte (arguments with newlines, empty strings). Repeated names are lists
// in order; unknown names are errors (host and guest come from one build).
#ifndef XEHIL_VXE_RUNNER_GUEST_SPEC_H_
#define XEHIL_VXE_RUNNER_GUEST_SPEC_H_

#include <string>
#include <utility>
#include <vector>

namespace xehil::vxe {

// Where things live in the guest and in the run directory.
inline constexpr char kGuestRunDir[] = "/run/xehil";
inline constexpr char kRunShareTag[] = "xehil_run";
inline constexpr char kSpecFile[] = "spec";
inline constexpr char kStatusFile[] = "status";
// The program's stdout and stderr and the daemon's output, written by the
// guest init as they come and read by the host as they grow (a 9p write is
// synchronous): megabytes a second, where a 16550 serial port does 60 KB/s.
inline constexpr char kStdoutFile[] = "stdout";
inline constexpr char kStderrFile[] = "stderr";
inline constexpr char kDaemonFile[] = "daemon";
// The line a guest daemon prints on stdout once it serves requests.
inline constexpr char kDaemonReadyLine[] = "ready";
// vm-run's own daemon (xehil-simd --vxe-control) serves its control socket
// here (the guest's tmpfs), and the program finds it in this variable.
inline constexpr char kGuestControlSocket[] = "/run/xehil-simd.sock";
inline constexpr char kControlSocketEnv[] = "XEHIL_VXE_CONTROL";

struct GuestSpec {
  std::vector<std::string> argv;  // the program; argv[0] searched in PATH
  std::vector<std::string> env;   // NAME=VALUE, the program's environment
  std::string cwd;                // working directory (a host path)
  // Kernel modules loaded with finit_module before anything starts, in order.
  std::vector<std::string> modules;
  // A daemon started before the program (same cwd and env) and stopped
  // (SIGTERM) after it; empty for none. It must print kDaemonReadyLine.
  std::vector<std::string> daemon;
  int daemon_ready_timeout_ms = 30000;
  int daemon_stop_timeout_ms = 10000;
};

struct GuestStatus {
  // The guest init's own failure (mount, module, daemon, ...); "" if none.
  std::string error;
  bool program_ran = false;  // forked and exec'd
  int program_wait_status = 0;
  int exec_errno = 0;  // exec of the program failed with this errno
  bool daemon_ran = false;
  int daemon_wait_status = 0;
  bool daemon_killed = false;     // did not stop on SIGTERM in time
  double boot_to_program_ms = 0;  // guest CLOCK_BOOTTIME at program start
  double program_ms = 0;          // program run time, guest clock
};

using Fields = std::vector<std::pair<std::string, std::string>>;
std::string EncodeFields(const Fields& fields);
bool DecodeFields(const std::string& text, Fields* fields, std::string* error);

std::string EncodeGuestSpec(const GuestSpec& spec);
bool DecodeGuestSpec(const std::string& text, GuestSpec* spec,
                     std::string* error);

std::string EncodeGuestStatus(const GuestStatus& status);
bool DecodeGuestStatus(const std::string& text, GuestStatus* status,
                       std::string* error);

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_GUEST_SPEC_H_
