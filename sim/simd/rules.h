// simd::RuleEngine: runs xehil.sim.SimdScript rules (proto/simd.proto)
// against a shared sim::Device as the daemon's DRM files produce events, and
// applies the same actions on demand for the control channel.
//
// A rule fires when its trigger's occurrence matches (the nth event of that
// kind on the file, or every one for nth 0), its program matches the file's,
// and it has fired fewer than `times` times. Its actions run in order; VM
// actions target the event's VM (vm_created, vm_bound) or every restartable
// VM of the file. An action that cannot be applied (e.g. a rebind trigger on
// a paused VM) is logged and counted in the rule's status; the rest still run.
//
//   RuleEngine rules(device, [](const std::string& line) { ... });
//   rules.AddRules(script);
//   rules.OnEvent(RuleEvent::kWatchSubscribed, {file_id, pid, "prog"}, 0);
//
// Thread-safe. Lock order: RuleEngine -> sim::Device.
#ifndef XEHIL_SIM_SIMD_RULES_H_
#define XEHIL_SIM_SIMD_RULES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/simd.pb.h"
#include "sim/device.h"

namespace xehil::simd {

enum class RuleEvent { kFileOpened, kWatchSubscribed, kVmCreated, kVmBound };

struct FileRef {
  sim::FileId id = 0;
  uint32_t pid = 0;
  std::string program;  // as the client named itself (argv[0])
};

// The memory region instance `region` names on `profile`.
absl::StatusOr<uint16_t> ResolveRegion(const sim::DeviceProfile& profile,
                                       const sim::RegionBytes& region);

// Applies one action on `device` for `file` and the VMs in `vms`. Returns the
// first failure (every VM is still tried); `what` gets a short description
// of what was done, for logs.
absl::Status ApplyAction(sim::Device& device, const sim::Action& action,
                         sim::FileId file, const std::vector<uint32_t>& vms,
                         std::string* what);

// The restartable VMs of `file` (empty if the file is not open).
std::vector<uint32_t> RestartableVms(const sim::Device& device,
                                     sim::FileId file);

class RuleEngine {
 public:
  using Log = std::function<void(const std::string&)>;

  RuleEngine(std::shared_ptr<sim::Device> device, Log log);

  // Adds already validated rules (see ValidateScript), numbered after the
  // rules added before.
  void AddRules(const sim::SimdScript& script);
  int rule_count() const;

  // Called after `event` happened on `file` (after the ioctl succeeded).
  // `vm_id`: the VM of vm_created / vm_bound, else 0.
  void OnEvent(RuleEvent event, const FileRef& file, uint32_t vm_id);
  // Forgets a released file's event counts.
  void ForgetFile(sim::FileId file);

  std::vector<sim::RuleStatus> Status() const;

 private:
  struct Active {
    sim::Rule rule;
    std::string name;
    uint32_t fired = 0;
    uint32_t matched_files = 0;  // file_opened ordinal per rule
    uint64_t errors = 0;
    std::string last_error;
  };

  void FireLocked(Active& active, const FileRef& file, uint32_t vm_id,
                  bool vm_event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<sim::Device> device_;
  const Log log_;
  mutable absl::Mutex mu_;
  std::vector<Active> rules_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<sim::FileId, RuleEvent>, uint32_t> counts_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_RULES_H_
