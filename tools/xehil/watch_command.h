// `xehil watch`: subscribes a notification pipe to a DRM file and prints the
// events it carries, as text, JSON lines, or the raw record bytes.
//
// On the simulator nothing would ever fail on its own, so the command also
// drives a small workload: it creates VMs and scripts `sim_errors` rebind
// failures (alternating -ENOMEM and -ENOSPC), restarting each VM so the next
// one can fail, then closes the file, which ends the stream with a removal
// record. On xe it prints until interrupted or `count` events were seen.
#ifndef XEHIL_TOOLS_XEHIL_WATCH_COMMAND_H_
#define XEHIL_TOOLS_XEHIL_WATCH_COMMAND_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace xehil {

struct WatchOptions {
  std::string backend = "sim";
  std::string sim_profile = "dg2-16g";
  std::string xe_path;
  std::string format = "text";  // text | json | raw
  uint32_t ring_notes = 256;
  uint8_t watch_id = 1;
  int count = 0;       // stop after this many events (0: until the end)
  int sim_errors = 6;  // scripted VM errors on the simulator
};

// Returns the exit code: 0 when the stream was watched to its end (or
// `count`/an interrupt), 1 when the backend or pipe could not be set up, 2
// for a bad option.
int RunWatch(const WatchOptions& options, std::ostream& out, std::ostream& err);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_WATCH_COMMAND_H_
