#include "sim/simd/control_service.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "sim/simd/script.h"
#include "sim/simd/wire.h"

namespace xehil::simd {
namespace {

sim::ControlReply ReplyFor(const absl::Status& status) {
  sim::ControlReply reply;
  reply.set_code(static_cast<int>(status.code()));
  reply.set_message(std::string(status.message()));
  return reply;
}

sim::ControlReply Apply(ControlTarget& target, const sim::ApplyActions& apply) {
  bool needs_file = false;
  for (const sim::Action& action : apply.action()) {
    absl::Status valid = ValidateAction(action);
    if (!valid.ok()) return ReplyFor(valid);
    needs_file |=
        !action.has_inject_pressure() && !action.has_release_pressure();
  }
  if (apply.action_size() == 0) {
    return ReplyFor(absl::InvalidArgumentError("apply needs an action"));
  }
  // Pressure alone names no file; the device's id 0 is none.
  sim::FileId file = 0;
  if (needs_file) {
    absl::StatusOr<sim::FileId> found = target.FindOpenFile(apply.file_id());
    if (!found.ok()) return ReplyFor(found.status());
    file = *found;
  }
  sim::Device& device = target.ControlDevice();
  const std::vector<uint32_t> vms = apply.vm_id() != 0
                                        ? std::vector<uint32_t>{apply.vm_id()}
                                        : RestartableVms(device, file);
  absl::Status first = absl::OkStatus();
  for (const sim::Action& action : apply.action()) {
    std::string what;
    absl::Status status = ApplyAction(device, action, file, vms, &what);
    target.ControlLog(absl::StrCat(
        "control: ", what.empty() ? "action" : what,
        needs_file ? absl::StrCat(" (file ", apply.file_id(), ")") : "",
        status.ok() ? "" : ": ", status.message()));
    if (first.ok()) first = status;
  }
  return ReplyFor(first);
}

sim::ControlReply AddRules(ControlTarget& target,
                           const sim::SimdScript& rules) {
  RuleEngine& engine = target.ControlRules();
  // The message says what happened even if the rest is cut to fit.
  absl::Status valid =
      ValidateScript(rules, "add_rules", nullptr, engine.rule_count() + 1);
  if (!valid.ok()) {
    return ReplyFor(absl::Status(
        valid.code(), absl::StrCat("no rule installed: ", valid.message())));
  }
  engine.AddRules(rules);
  const std::string installed =
      absl::StrCat("installed ", rules.rule_size(), " rules");
  target.ControlLog(installed);
  sim::ControlReply reply = ReplyFor(absl::OkStatus());
  reply.set_message(installed);
  return reply;
}

// A reply that fits in one message and still says whether the request was
// carried out: a failure keeps its code and the head of its message (whole
// lines), a success too large to send (a huge status) says it succeeded.
sim::ControlReply Shortened(const sim::ControlReply& reply) {
  sim::ControlReply out;
  if (reply.code() == 0) {
    out.set_code(static_cast<int>(absl::StatusCode::kResourceExhausted));
    out.set_message(
        "the request succeeded, but its reply is larger than a message");
    return out;
  }
  out.set_code(reply.code());
  constexpr size_t kKeep = kMaxMessageBytes / 4;
  const std::string& message = reply.message();
  size_t cut = message.rfind('\n', kKeep);
  if (cut == std::string::npos || cut == 0) {
    cut = std::min(kKeep, message.size());
    // Never split a UTF-8 sequence: the field must stay valid UTF-8.
    while (cut > 0 && (static_cast<uint8_t>(message[cut]) & 0xC0) == 0x80) {
      --cut;
    }
  }
  out.set_message(absl::StrCat(message.substr(0, cut), "\n... (",
                               message.size() - cut,
                               " more bytes cut to fit one message)"));
  return out;
}

}  // namespace

sim::ControlReply RunControl(ControlTarget& target,
                             const sim::ControlRequest& request) {
  switch (request.request_case()) {
    case sim::ControlRequest::kStatus: {
      sim::ControlReply reply;
      *reply.mutable_status() = target.ControlStatus();
      return reply;
    }
    case sim::ControlRequest::kInjectPressure:
    case sim::ControlRequest::kReleasePressure: {
      sim::ApplyActions apply;
      sim::Action* action = apply.add_action();
      if (request.has_inject_pressure()) {
        *action->mutable_inject_pressure() = request.inject_pressure();
      } else {
        *action->mutable_release_pressure() = request.release_pressure();
      }
      return Apply(target, apply);
    }
    case sim::ControlRequest::kApply:
      return Apply(target, request.apply());
    case sim::ControlRequest::kAddRules:
      return AddRules(target, request.add_rules());
    case sim::ControlRequest::kWaitIdle:
      target.ControlDevice().WaitIdle();
      return ReplyFor(absl::OkStatus());
    case sim::ControlRequest::kWaitReleased:
      return ReplyFor(target.WaitReleased(request.wait_released()));
    case sim::ControlRequest::REQUEST_NOT_SET:
      break;
  }
  return ReplyFor(absl::InvalidArgumentError("empty ControlRequest"));
}

std::vector<uint8_t> AnswerControl(ControlTarget& target, uint32_t seq,
                                   const std::vector<uint8_t>& payload) {
  sim::ControlRequest request;
  sim::ControlReply reply;
  if (!request.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
    reply.set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    reply.set_message("payload is not a xehil.sim.ControlRequest");
  } else {
    reply = RunControl(target, request);
  }
  std::vector<uint8_t> bytes =
      EncodeControl(seq, MessageType::kControlReply, reply.SerializeAsString());
  if (!EncodedSizeOk(bytes)) {
    bytes = EncodeControl(seq, MessageType::kControlReply,
                          Shortened(reply).SerializeAsString());
  }
  return bytes;
}

}  // namespace xehil::simd
