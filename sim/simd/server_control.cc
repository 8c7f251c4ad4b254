// The daemon's control channel: per-process counts, status, and the
// socket daemon's side of RunControl (control_service.h).
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/base/errno_status.h"
#include "sim/ioctl_decode.h"
#include "sim/simd/control_service.h"
#include "sim/simd/device_status.h"
#include "sim/simd/server.h"

namespace xehil::simd {

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
  absl::MutexLock lock(&processes_mu_);
  ProcessCounts& counts = ProcessLocked(pid);
  ++(opened ? counts.opened : counts.released);
}

void Server::CountProcessIoctl(uint32_t pid, uint64_t request, int result) {
  const std::string name = sim::IoctlName(static_cast<unsigned long>(request));
  absl::MutexLock lock(&processes_mu_);
  ++ProcessLocked(pid).ioctls[name][result];
}

sim::DeviceStatus Server::Status() const {
  sim::DeviceStatus status;
  {
    absl::MutexLock lock(&processes_mu_);
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
    absl::MutexLock lock(&mu_);
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

// The socket daemon's side of RunControl: files by the daemon's file id.
class Server::ControlView : public ControlTarget {
 public:
  explicit ControlView(Server& server) : server_(server) {}

  sim::DeviceStatus ControlStatus() const override { return server_.Status(); }
  sim::Device& ControlDevice() const override { return *server_.device_; }
  RuleEngine& ControlRules() override { return server_.rules_; }
  void ControlLog(const std::string& line) const override { server_.Log(line); }

  absl::StatusOr<sim::FileId> FindOpenFile(uint64_t file_id) const override {
    absl::MutexLock lock(&server_.mu_);
    if (server_.files_.count(file_id) == 0) {
      return absl::NotFoundError(absl::StrCat("no open file ", file_id));
    }
    return file_id;
  }

  absl::Status WaitReleased(const sim::WaitReleased& wait) override {
    const int64_t timeout_ms = wait.timeout_ms() ? wait.timeout_ms() : 10000;
    auto open = [&] {
      server_.mu_.AssertReaderHeld();
      size_t count = 0;
      for (const auto& [id, entry] : server_.files_) {
        if ((wait.pid() == 0 || entry.pid == wait.pid()) &&
            (wait.file_id() == 0 || id == wait.file_id())) {
          ++count;
        }
      }
      return count;
    };
    auto done = [&] {
      server_.mu_.AssertReaderHeld();
      return server_.stopping_ || open() == 0;
    };
    absl::MutexLock lock(&server_.mu_);
    const bool released = server_.mu_.AwaitWithTimeout(
        absl::Condition(&done), absl::Milliseconds(timeout_ms));
    if (server_.stopping_) return absl::CancelledError("daemon stopping");
    if (!released) {
      return absl::DeadlineExceededError(absl::StrCat(
          open(), " matching files still open after ", timeout_ms, " ms"));
    }
    return absl::OkStatus();
  }

 private:
  Server& server_;
};

sim::ControlReply Server::Control(const sim::ControlRequest& request) {
  ControlView view(*this);
  return RunControl(view, request);
}

std::vector<uint8_t> Server::AnswerControlMessage(
    uint32_t seq, const std::vector<uint8_t>& payload) {
  ControlView view(*this);
  return AnswerControl(view, seq, payload);
}

}  // namespace xehil::simd
