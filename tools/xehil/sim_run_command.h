// `xehil sim-run`: runs an unmodified program against the simulator.
//
//   xehil sim-run --script=enomem_on_watch.textproto -- restart_on_enomem
//
// Without --socket it starts xehil-simd as a child on a fresh socket in a
// temporary directory and waits for its "listening on" line; with --socket
// it uses that daemon (a --script's rules are then added over the control
// channel). It runs the program with LD_PRELOAD (appended to any existing
// value) set to the interposer, libxehil_preload.so, and XEHIL_SIMD_SOCKET
// set to the socket, stdio inherited; waits for it; waits until its DRM
// files are released; and prints to `err` what the simulated device saw
// meanwhile (sim_run_summary.h). A daemon it started is then stopped.
//
// The interposer and the daemon are found in this binary's runfiles (they
// are data dependencies of //tools/xehil:xehil), else beside the binary;
// --preload / --simd override.
#ifndef XEHIL_TOOLS_XEHIL_SIM_RUN_COMMAND_H_
#define XEHIL_TOOLS_XEHIL_SIM_RUN_COMMAND_H_

#include <ostream>
#include <string>
#include <vector>

namespace xehil {

struct SimRunOptions {
  std::vector<std::string> command;  // PROGRAM ARGS...
  std::string device_profile;        // "" : the daemon's default
  std::string script;                // fault rules (xehil.sim.SimdScript)
  std::string socket;                // "" : start a daemon
  std::string preload;               // "" : find libxehil_preload.so
  std::string simd;                  // "" : find xehil-simd
  bool verbose = false;              // daemon logs on `err` as they happen
};

// Returns the program's exit code (128 + signal if a signal killed it),
// 127 if it could not be started, 1 if the simulator could not be set up,
// 2 for a bad option or script.
int RunSimRun(const SimRunOptions& options, std::ostream& err);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_SIM_RUN_COMMAND_H_
