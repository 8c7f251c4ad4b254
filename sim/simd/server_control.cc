// The daemon's control channel: status, pressure, faults on open files,
// rules added at run time, and waits.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "sim/ioctl_decode.h"
#include "sim/simd/device_status.h"
#include "sim/simd/script.h"
#include "sim/simd/server.h"

namespace xehil::simd {
namespace {

sim::ControlReply ReplyFor(const absl::Status& status) {
  sim::ControlReply reply;
  reply.set_code(static_cast<int>(status.code()));
  reply.set_message(std::string(status.message()));
  return reply;
}

}  // namespace

// The parent of `pid` from /proc (0 if it is gone or unreadable).
static uint32_t ParentOf(uint32_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
  const size_t close = text.rfind(')');
  uint32_t ppid = 0;
  if (close == std::string::npos) return 0;
  std::istringstream rest(text.substr(close + 1));
  std::string state;
  rest >> state >> ppid;
  return ppid;
}

Server::ProcessCounts& Server::ProcessLocked(uint32_t pid) {
  auto it = processes_.find(pid);
  if (it != processes_.end()) return it->second;
  if (processes_.size() >= kMaxProcesses) {
    auto oldest = std::min_element(processes_.begin(), processes_.end(),
                                   [](const auto& a, const auto& b) {
                                     return a.second.seq < b.second.seq;
                                   });
    processes_.erase(oldest);
  }
  ProcessCounts& counts = processes_[pid];
  counts.seq = next_process_seq_++;
  counts.ppid = ParentOf(pid);
  return counts;
}

void Server::CountProcessFile(uint32_t pid, bool opened) {
  std::lock_guard<std::mutex> lock(processes_mu_);
  ProcessCounts& counts = ProcessLocked(pid);
  ++(opened ? counts.opened : counts.released);
}

void Server::CountProcessIoctl(uint32_t pid, uint64_t request, int result) {
  const std::string name = sim::IoctlName(static_cast<unsigned long>(request));
  std::lock_guard<std::mutex> lock(processes_mu_);
  ++ProcessLocked(pid).ioctls[name][result];
}

sim::DeviceStatus Server::Status() const {
  sim::DeviceStatus status;
  {
    std::lock_guard<std::mutex> lock(processes_mu_);
    for (const auto& [pid, counts] : processes_) {
      sim::ProcessCounters* p = status.add_processes();
      p->set_pid(pid);
      p->set_ppid(counts.ppid);
      p->set_files_opened(counts.opened);
      p->set_files_released(counts.released);
      for (const auto& [name, by_result] : counts.ioctls) {
        for (const auto& [result, count] : by_result) {
          sim::IoctlCount* entry = p->add_ioctls();
          entry->set_name(name);
          entry->set_result(result);
          if (result != 0) entry->set_errno_name(ErrnoName(result));
          entry->set_count(count);
        }
      }
    }
  }
  FillDeviceStatus(*device_, &status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, entry] : files_) {
      AddOpenFile(*device_, id, entry.pid, entry.program, entry.watches,
                  &status);
    }
    *status.mutable_daemon() = counters_;
    status.mutable_daemon()->set_connections(static_cast<uint32_t>(live_));
  }
  status.mutable_daemon()->set_pipes_registered(pipes_.registered_total());
  for (const PipeRegistry::Info& info : pipes_.List()) {
    sim::RegisteredPipe* pipe = status.add_pipes();
    pipe->set_pipe_id(info.id);
    pipe->set_pid(info.pid);
    pipe->set_capacity_notes(info.capacity_notes);
    pipe->set_posted(info.stats.posted);
    pipe->set_dropped_full(info.stats.dropped_full);
    pipe->set_dropped_unsized(info.stats.dropped_unsized);
    pipe->set_filtered(info.stats.filtered);
    pipe->set_loss_records(info.stats.loss_records);
    pipe->set_removals(info.stats.removals);
    pipe->set_write_failed(info.stats.write_failed);
  }
  for (sim::RuleStatus& rule : rules_.Status()) {
    *status.add_rules() = std::move(rule);
  }
  return status;
}

sim::ControlReply Server::Control(const sim::ControlRequest& request) {
  switch (request.request_case()) {
    case sim::ControlRequest::kStatus: {
      sim::ControlReply reply;
      *reply.mutable_status() = Status();
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
      return Apply(apply);
    }
    case sim::ControlRequest::kApply:
      return Apply(request.apply());
    case sim::ControlRequest::kAddRules: {
      // The message says what happened even if the rest is cut to fit.
      absl::Status valid = ValidateScript(request.add_rules(), "add_rules",
                                          nullptr, rules_.rule_count() + 1);
      if (!valid.ok()) {
        return ReplyFor(
            absl::Status(valid.code(),
                         absl::StrCat("no rule installed: ", valid.message())));
      }
      rules_.AddRules(request.add_rules());
      const std::string installed =
          absl::StrCat("installed ", request.add_rules().rule_size(), " rules");
      Log(installed);
      sim::ControlReply reply = ReplyFor(absl::OkStatus());
      reply.set_message(installed);
      return reply;
    }
    case sim::ControlRequest::kWaitIdle:
      device_->WaitIdle();
      return ReplyFor(absl::OkStatus());
    case sim::ControlRequest::kWaitReleased:
      return WaitReleased(request.wait_released());
    case sim::ControlRequest::REQUEST_NOT_SET:
      break;
  }
  return ReplyFor(absl::InvalidArgumentError("empty ControlRequest"));
}

sim::ControlReply Server::Apply(const sim::ApplyActions& apply) {
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
  if (needs_file) {
    std::lock_guard<std::mutex> lock(mu_);
    if (files_.count(apply.file_id()) == 0) {
      return ReplyFor(
          absl::NotFoundError(absl::StrCat("no open file ", apply.file_id())));
    }
  }
  const std::vector<uint32_t> vms =
      apply.vm_id() != 0 ? std::vector<uint32_t>{apply.vm_id()}
                         : RestartableVms(*device_, apply.file_id());
  absl::Status first = absl::OkStatus();
  for (const sim::Action& action : apply.action()) {
    std::string what;
    absl::Status status =
        ApplyAction(*device_, action, apply.file_id(), vms, &what);
    Log(absl::StrCat(
        "control: ", what.empty() ? "action" : what,
        needs_file ? absl::StrCat(" (file ", apply.file_id(), ")") : "",
        status.ok() ? "" : ": ", status.message()));
    if (first.ok()) first = status;
  }
  return ReplyFor(first);
}

sim::ControlReply Server::WaitReleased(const sim::WaitReleased& wait) {
  const auto timeout =
      std::chrono::milliseconds(wait.timeout_ms() ? wait.timeout_ms() : 10000);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto open = [&] {
    size_t count = 0;
    for (const auto& [id, entry] : files_) {
      if ((wait.pid() == 0 || entry.pid == wait.pid()) &&
          (wait.file_id() == 0 || id == wait.file_id())) {
        ++count;
      }
    }
    return count;
  };
  std::unique_lock<std::mutex> lock(mu_);
  const bool released = files_cv_.wait_until(
      lock, deadline, [&] { return stopping_ || open() == 0; });
  if (stopping_) return ReplyFor(absl::CancelledError("daemon stopping"));
  if (!released) {
    return ReplyFor(absl::DeadlineExceededError(absl::StrCat(
        open(), " matching files still open after ", timeout.count(), " ms")));
  }
  return ReplyFor(absl::OkStatus());
}

}  // namespace xehil::simd
