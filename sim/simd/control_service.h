// The control channel's requests (proto/simd.proto ControlRequest: status,
// pressure, apply, add_rules, wait_idle, wait_released), served the same way
// by both daemons: the socket daemon (Server) and the vxe daemon (VxeServer).
// A daemon implements ControlTarget, saying what its files are called and how
// to wait for their release; RunControl does the rest.
//
//   class MyDaemon : public ControlTarget { ... };
//   sim::ControlReply reply = RunControl(daemon, request);
//   std::vector<uint8_t> message = AnswerControl(daemon, seq, payload);
#ifndef XEHIL_SIM_SIMD_CONTROL_SERVICE_H_
#define XEHIL_SIM_SIMD_CONTROL_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/simd.pb.h"
#include "sim/device.h"
#include "sim/simd/rules.h"

namespace xehil::simd {

// What a daemon offers its control channel. Called from control connection
// threads: every method must be thread-safe.
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;

  // What a status request answers.
  virtual sim::DeviceStatus ControlStatus() const = 0;
  virtual sim::Device& ControlDevice() const = 0;
  virtual RuleEngine& ControlRules() = 0;
  // The device's id of the open file that control clients call `file_id`
  // (the socket daemon's file id, vxe's kernel file id): NOT_FOUND if no
  // such file is open.
  virtual absl::StatusOr<sim::FileId> FindOpenFile(uint64_t file_id) const = 0;
  // Until no open file matches `wait` (pid, file id as clients name it):
  // OK; DEADLINE_EXCEEDED after the timeout, saying how many are still
  // open; CANCELLED when the daemon stops.
  virtual absl::Status WaitReleased(const sim::WaitReleased& wait) = 0;
  virtual void ControlLog(const std::string& line) const = 0;
};

// Runs one request on `target`; the reply carries the status code.
sim::ControlReply RunControl(ControlTarget& target,
                             const sim::ControlRequest& request);

// The kControlReply message (wire.h) answering a kControl message's
// `payload`: INVALID_ARGUMENT if the payload is not a ControlRequest; a
// reply too large for one message keeps its code and the head of its message
// (a success says it succeeded).
std::vector<uint8_t> AnswerControl(ControlTarget& target, uint32_t seq,
                                   const std::vector<uint8_t>& payload);

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_CONTROL_SERVICE_H_
