#include "sim/simd/vxe_server.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/base/errno_status.h"
#include "core/base/read_file.h"
#include "sim/simd/device_status.h"
#include "sim/simd/vxe_ioctl.h"

namespace xehil::simd {
namespace {

// What the socket daemon's clients call themselves: the basename of argv[0]
// (program_invocation_short_name); the kernel's comm if the process is gone.
std::string ProgramOf(uint32_t pid, const char* comm) {
  absl::StatusOr<std::string> cmdline = ReadFileToString(
      absl::StrCat("/proc/", pid, "/cmdline"), "cmdline", 4096);
  if (cmdline.ok() && !cmdline->empty()) {
    std::string argv0 = cmdline->substr(0, cmdline->find('\0'));
    size_t slash = argv0.rfind('/');
    if (slash != std::string::npos) argv0 = argv0.substr(slash + 1);
    if (!argv0.empty()) return argv0;
  }
  return std::string(comm, strnlen(comm, VXE_CTL_COMM_LEN));
}

}  // namespace

absl::StatusOr<std::unique_ptr<VxeServer>> VxeServer::Open(
    const std::string& path, VxeServerOptions options) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    if (err == EBUSY) {
      return absl::UnavailableError(
          absl::StrCat(path, ": another device model serves it (EBUSY)"));
    }
    if (err == ENOENT || err == ENXIO || err == ENODEV) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, ": ", DescribeErrno(-err),
                       "; is the vxe kernel module loaded?"));
    }
    return ErrnoToStatus(-err, absl::StrCat("open ", path));
  }
  return Create(std::move(fd), std::move(options));
}

absl::StatusOr<std::unique_ptr<VxeServer>> VxeServer::Create(
    UniqueFd control, VxeServerOptions options) {
  // Start(), not Create(profile): a worker thread that cannot start is a
  // status here, never an abort.
  absl::StatusOr<std::shared_ptr<sim::Device>> started =
      options.profile.has_value() ? sim::Device::Start(*options.profile)
                                  : sim::Device::Create(options.device_profile);
  if (!started.ok()) return started.status();
  std::shared_ptr<sim::Device> device = *std::move(started);
  std::unique_ptr<VxeServer> server(
      new VxeServer(std::move(control), std::move(options), device));
  server->rules_.AddRules(server->options_.script);
  VxeServer* self = server.get();
  device->SetRecordSink(
      [self](sim::FileId file, absl::Span<const uint8_t> record) {
        self->Post(file, record);
      });
  if (!server->options_.control_socket.empty()) {
    ControlListenerOptions listen;
    listen.socket_path = server->options_.control_socket;
    listen.max_connections = server->options_.max_control_connections;
    listen.handshake_timeout_ms = server->options_.handshake_timeout_ms;
    listen.other_roles_refused =
        "this xehil-simd serves the vxe kernel driver (--vxe-control): its "
        "socket takes control connections only; DRM files are opened on the "
        "render node (/dev/dri/renderD*)";
    listen.log = server->options_.log;
    XEHIL_ASSIGN_OR_RETURN(
        server->listener_,
        ControlListener::Start(std::move(listen),
                               static_cast<ControlTarget&>(*server)));
  }
  return server;
}

VxeServer::VxeServer(UniqueFd control, VxeServerOptions options,
                     std::shared_ptr<sim::Device> device)
    : options_(std::move(options)),
      device_(std::move(device)),
      control_(std::move(control)),
      rules_(device_, [this](const std::string& line) { Log(line); }) {}

VxeServer::~VxeServer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  released_cv_.SignalAll();  // control threads in WaitReleased return
  listener_.reset();
  ReleaseAll();
  device_->SetRecordSink(nullptr);
}

void VxeServer::Log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

absl::Status VxeServer::Serve(int stop_fd) {
  absl::Status ended;
  while (ended.ok()) {
    pollfd fds[2] = {{control_.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      ended = ErrnoToStatus(-errno, "poll on the control device");
      break;
    }
    if (fds[1].revents != 0) break;
    if (fds[0].revents == 0) continue;
    vxe_ctl_event event;
    ssize_t n = ::read(control_.get(), &event, sizeof(event));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      ended = ErrnoToStatus(-errno, "read from the control device");
    } else if (n == 0) {
      ended = absl::UnavailableError("the control channel was closed");
    } else if (static_cast<size_t>(n) != sizeof(event) ||
               event.arg_size > VXE_CTL_MAX_ARG) {
      ended = absl::DataLossError(
          absl::StrCat("control device event of ", n, " bytes (arg_size ",
                       event.arg_size, "); expected ", sizeof(event)));
    } else {
      ended = Handle(event);
    }
  }
  ReleaseAll();
  return ended;
}

absl::Status VxeServer::Handle(const vxe_ctl_event& event) {
  const absl::Span<const uint8_t> arg(event.arg, event.arg_size);
  if (event.type == VXE_CTL_EVENT_OPEN) {
    OpenFile entry;
    entry.kernel_id = event.file_id;
    // The kernel serves WATCH_QUEUE itself: no pipe of ours is involved,
    // so the caller's pid stands for the peer too.
    entry.file = std::make_unique<DrmFile>(
        device_->Open(), event.pid, event.pid, ProgramOf(event.pid, event.comm),
        pipes_, rules_, nullptr);
    const FileRef ref = entry.file->ref();
    {
      absl::MutexLock lock(&mu_);
      kernel_[ref.id] = event.file_id;
      files_[event.file_id] = std::move(entry);
    }
    // Rules log the device's file id; say which kernel file that is.
    Log(absl::StrCat("file ", ref.id, " (kernel file ", event.file_id,
                     ") opened by pid ", ref.pid, " (", ref.program, ")"));
    rules_.OnEvent(RuleEvent::kFileOpened, ref, 0);
    return Reply(event, 0, {});
  }
  if (event.type == VXE_CTL_EVENT_RELEASE) {
    OpenFile released;
    {
      absl::MutexLock lock(&mu_);
      auto it = files_.find(event.file_id);
      if (it == files_.end()) {  // its open failed
        return event.seq != 0 ? Reply(event, 0, {}) : absl::OkStatus();
      }
      released = std::move(it->second);
      files_.erase(it);
      kernel_.erase(released.file->id());
    }
    const sim::FileId id = released.file->id();
    released.file.reset();  // outside mu_: the device posts nothing now
    released_cv_.SignalAll();
    rules_.ForgetFile(id);
    Log(absl::StrCat("file ", id, " (kernel file ", event.file_id,
                     ") released"));
    // The closing task waits for this (vxe_ctl.h), as close() on xe returns
    // once the file's objects are gone.
    return event.seq != 0 ? Reply(event, 0, {}) : absl::OkStatus();
  }
  // Only Serve()'s thread (this one) erases from files_, so the entry
  // outlives the lock.
  OpenFile* served = nullptr;
  {
    absl::MutexLock lock(&mu_);
    auto it = files_.find(event.file_id);
    if (it != files_.end()) served = &it->second;
  }
  if (event.type == VXE_CTL_EVENT_WATCHED) {
    if (served != nullptr) {
      {
        absl::MutexLock lock(&mu_);
        ++served->watches;
      }
      rules_.OnEvent(RuleEvent::kWatchSubscribed, served->file->ref(), 0);
    }
    return Reply(event, 0, arg);
  }
  if (event.type == VXE_CTL_EVENT_IOCTL) {
    if (served == nullptr) return Reply(event, -ENODEV, arg);
    IoctlReply reply = ServeVxeIoctl(
        *served->file, static_cast<pid_t>(event.pid), event.request,
        std::vector<uint8_t>(arg.begin(), arg.end()));
    reply.arg.resize(event.arg_size);
    return Reply(event, reply.result, reply.arg);
  }
  return absl::DataLossError(
      absl::StrCat("control device event of unknown type ", event.type));
}

absl::Status VxeServer::Reply(const vxe_ctl_event& event, int result,
                              absl::Span<const uint8_t> arg) {
  vxe_ctl_reply reply{};
  reply.type = VXE_CTL_CMD_REPLY;
  reply.result = result;
  reply.seq = event.seq;
  reply.arg_size = event.arg_size;
  if (!arg.empty()) std::memcpy(reply.arg, arg.data(), arg.size());
  if (::write(control_.get(), &reply, sizeof(reply)) ==
      static_cast<ssize_t>(sizeof(reply))) {
    return absl::OkStatus();
  }
  if (errno == ENOENT) {  // the caller was killed while we served it
    Log(absl::StrCat("file ", event.file_id, ": caller ", event.pid,
                     " gone before the reply"));
    return absl::OkStatus();
  }
  return ErrnoToStatus(-errno, "reply to the control device");
}

void VxeServer::Post(sim::FileId file, absl::Span<const uint8_t> record) {
  vxe_ctl_post post{};
  post.type = VXE_CTL_CMD_POST;
  {
    absl::MutexLock lock(&mu_);
    auto it = kernel_.find(file);
    if (it == kernel_.end()) return;  // released meanwhile
    post.file_id = it->second;
  }
  if (record.size() >= sizeof(post.record)) return;
  post.size = static_cast<uint32_t>(record.size());
  std::memcpy(post.record, record.data(), record.size());
  if (::write(control_.get(), &post, sizeof(post)) < 0 && errno != ENOENT) {
    Log(absl::StrCat("posting a record for file ", post.file_id, ": ",
                     DescribeErrno(-errno)));
  }
}

void VxeServer::ReleaseAll() {
  std::map<uint64_t, OpenFile> files;
  {
    absl::MutexLock lock(&mu_);
    files.swap(files_);
    kernel_.clear();
  }
  for (auto& [kernel_id, entry] : files) rules_.ForgetFile(entry.file->id());
  files.clear();  // outside mu_: releasing takes the device lock
  released_cv_.SignalAll();
}

sim::DeviceStatus VxeServer::Status() const {
  sim::DeviceStatus status;
  FillDeviceStatus(*device_, &status);
  struct Row {
    uint64_t kernel_id;
    FileRef ref;
    uint32_t watches;
  };
  std::vector<Row> rows;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [kernel_id, entry] : files_) {
      rows.push_back({kernel_id, entry.file->ref(), entry.watches});
    }
  }
  for (const Row& row : rows) {
    AddOpenFile(*device_, row.ref.id, row.ref.pid, row.ref.program, row.watches,
                &status);
    // Clients name files as the kernel does (drm-client-id).
    status.mutable_files(status.files_size() - 1)->set_file_id(row.kernel_id);
  }
  for (sim::RuleStatus& rule : rules_.Status()) {
    *status.add_rules() = std::move(rule);
  }
  return status;
}

sim::ControlReply VxeServer::Control(const sim::ControlRequest& request) {
  return RunControl(*this, request);
}

absl::StatusOr<sim::FileId> VxeServer::FindOpenFile(uint64_t file_id) const {
  absl::MutexLock lock(&mu_);
  auto it = files_.find(file_id);
  if (it == files_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "no open file ", file_id, " (vxe names files by their drm-client-id)"));
  }
  return it->second.file->id();
}

absl::Status VxeServer::WaitReleased(const sim::WaitReleased& wait) {
  const int64_t timeout_ms = wait.timeout_ms() ? wait.timeout_ms() : 10000;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(timeout_ms);
  auto open = [&] {
    mu_.AssertReaderHeld();
    size_t count = 0;
    for (const auto& [kernel_id, entry] : files_) {
      if ((wait.pid() == 0 || entry.file->ref().pid == wait.pid()) &&
          (wait.file_id() == 0 || kernel_id == wait.file_id())) {
        ++count;
      }
    }
    return count;
  };
  // A CondVar, not Await: files_ loses the entry before the DrmFile is
  // destroyed (outside mu_), and waiters return once it is.
  absl::MutexLock lock(&mu_);
  bool released = stopping_ || open() == 0;
  while (!released) {
    const bool timed_out = released_cv_.WaitWithDeadline(&mu_, deadline);
    released = stopping_ || open() == 0;
    if (timed_out) break;
  }
  if (stopping_) return absl::CancelledError("daemon stopping");
  if (!released) {
    return absl::DeadlineExceededError(absl::StrCat(
        open(), " matching files still open after ", timeout_ms, " ms"));
  }
  return absl::OkStatus();
}

}  // namespace xehil::simd
