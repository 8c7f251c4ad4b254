#include "sim/simd/remote_backend.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"
#include "core/uapi/watch_uapi.h"
#include "sim/carrier_notification_reader.h"
#include "sim/simd/ioctl_buffers.h"

namespace xehil::simd {
namespace {

std::optional<std::pair<dev_t, ino_t>> PipeKey(int fd) {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    return std::nullopt;
  }
  return std::make_pair(st.st_dev, st.st_ino);
}

// Every notification pipe this process made through a RemoteBackend, by
// daemon socket: a kernel lets any DRM file watch any notification pipe, so
// another RemoteBackend of the process may subscribe one (pipefs inode
// numbers are not reused while the counter does not wrap).
struct MadePipes {
  absl::Mutex mu;
  std::set<std::tuple<std::string, dev_t, ino_t>> pipes ABSL_GUARDED_BY(mu);
};

MadePipes& Made() {
  static MadePipes* made = new MadePipes;
  return *made;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteBackend>> RemoteBackend::Connect(
    const std::string& socket_path, const std::string& program) {
  absl::StatusOr<Client> file =
      Client::Connect(socket_path, Role::kDrmFile, program);
  if (!file.ok()) return file.status();
  return std::unique_ptr<RemoteBackend>(
      new RemoteBackend(*std::move(file), socket_path));
}

RemoteBackend::RemoteBackend(Client file, std::string socket_path)
    : socket_path_(std::move(socket_path)),
      file_id_(file.file_id()),
      description_(file.description()),
      file_(std::move(file)) {}

uint64_t RemoteBackend::PipeId(int fd) const {
  std::optional<std::pair<dev_t, ino_t>> key = PipeKey(fd);
  absl::MutexLock lock(&mu_);
  if (!key.has_value()) return 0;
  auto it = pipe_ids_.find(*key);
  return it == pipe_ids_.end() ? 0 : it->second;
}

uint64_t RemoteBackend::AdoptPipe(int fd) {
  std::optional<std::pair<dev_t, ino_t>> key = PipeKey(fd);
  if (!key.has_value()) return 0;
  {
    MadePipes& made = Made();
    absl::MutexLock lock(&made.mu);
    if (made.pipes.count({socket_path_, key->first, key->second}) == 0) {
      return 0;
    }
  }
  // Registered on this file's pipes connection through a write end of our
  // own (the daemon finds the queue it already has by inode).
  const std::string self = "/proc/self/fd/" + std::to_string(fd);
  UniqueFd write_end(::open(self.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!write_end.valid()) return 0;
  absl::MutexLock lock(&mu_);
  if (!pipes_.has_value()) {
    absl::StatusOr<Client> pipes = Client::Connect(socket_path_, Role::kPipes);
    if (!pipes.ok()) return 0;
    pipes_ = *std::move(pipes);
  }
  absl::StatusOr<Result> registered = pipes_->RegisterPipe(write_end.get());
  if (!registered.ok() || registered->result != 0) return 0;
  pipe_ids_[*key] = registered->value;
  return registered->value;
}

int RemoteBackend::Ioctl(unsigned long request, void* arg) {
  const size_t size = _IOC_SIZE(request);
  if (arg == nullptr && size != 0) return -EFAULT;
  IoctlRequest wire;
  wire.request = request;
  const auto* bytes = static_cast<const uint8_t*>(arg);
  if (size != 0) wire.arg.assign(bytes, bytes + size);
  std::vector<std::pair<uint32_t, uint8_t*>> outs;  // field, user memory
  for (const PointerField& field :
       PointerFields(request, wire.arg.data(), wire.arg.size())) {
    uint64_t address;
    std::memcpy(&address, wire.arg.data() + field.offset, sizeof(address));
    // Too large to ship: the daemon sees no buffer and answers -EFAULT.
    if (address == 0 || field.bytes == 0 ||
        field.bytes > kMaxMessageBytes / 2) {
      continue;
    }
    // The field holds an address in this process.
    // NOLINTNEXTLINE(performance-no-int-to-ptr)
    auto* user = reinterpret_cast<uint8_t*>(static_cast<uintptr_t>(address));
    Buffer buffer;
    buffer.field_offset = field.offset;
    buffer.flags = kBufferIn | kBufferOut;
    buffer.bytes.assign(user, user + field.bytes);
    wire.buffers.push_back(std::move(buffer));
    outs.push_back({field.offset, user});
  }
  if (request == DRM_IOCTL_XE_WATCH_QUEUE &&
      size == sizeof(drm_xe_watch_queue)) {
    drm_xe_watch_queue watch;
    std::memcpy(&watch, wire.arg.data(), sizeof(watch));
    // An unknown pipe becomes id 0, which the daemon never hands out.
    const int fd = static_cast<int>(watch.fd);
    uint64_t id = PipeId(fd);
    if (id == 0) id = AdoptPipe(fd);
    watch.fd = static_cast<uint32_t>(id);
    std::memcpy(wire.arg.data(), &watch, sizeof(watch));
  }

  absl::MutexLock lock(&mu_);
  absl::StatusOr<IoctlReply> reply = file_.Ioctl(wire);
  if (!reply.ok() || reply->arg.size() != size ||
      reply->out.size() != outs.size()) {
    return -EIO;
  }
  // Copy the struct back but keep the caller's own pointers and fd.
  std::vector<uint8_t> result = reply->arg;
  for (const auto& [offset, user] : outs) {
    std::memcpy(result.data() + offset, bytes + offset, sizeof(uint64_t));
  }
  if (request == DRM_IOCTL_XE_WATCH_QUEUE) {
    std::memcpy(result.data(), bytes, sizeof(uint32_t));
  }
  if (size != 0) std::memcpy(arg, result.data(), size);
  for (size_t i = 0; i < outs.size(); ++i) {
    const std::vector<uint8_t>& out = reply->out[i];
    if (!out.empty()) std::memcpy(outs[i].second, out.data(), out.size());
  }
  return reply->result;
}

absl::StatusOr<NotificationPipe> RemoteBackend::OpenNotificationPipe(
    const NotificationPipeOptions& options) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoToStatus(-errno, "pipe2");
  NotificationPipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1]), nullptr};
  // The daemon writes records and loss markers into an ordinary pipe.
  absl::StatusOr<std::shared_ptr<NotificationReader>> reader =
      sim::MakeCarrierNotificationReader();
  if (!reader.ok()) return reader.status();
  pipe.reader = *std::move(reader);
  std::optional<std::pair<dev_t, ino_t>> key = PipeKey(fds[0]);
  if (!key.has_value()) return absl::InternalError("pipe2 gave no pipe");

  absl::MutexLock lock(&mu_);
  if (!pipes_.has_value()) {
    absl::StatusOr<Client> pipes = Client::Connect(socket_path_, Role::kPipes);
    if (!pipes.ok()) return pipes.status();
    pipes_ = *std::move(pipes);
  }
  absl::StatusOr<Result> registered = pipes_->RegisterPipe(fds[1]);
  if (!registered.ok()) return registered.status();
  if (registered->result != 0) {
    return ErrnoToStatus(registered->result, "register pipe with xehil-simd");
  }
  const uint64_t id = registered->value;
  PipeIoctl size{id, IOC_WATCH_QUEUE_SET_SIZE, options.ring_notes, {}};
  absl::StatusOr<Result> sized = pipes_->PipeIoctl(size);
  if (!sized.ok()) return sized.status();
  if (sized->result != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("IOC_WATCH_QUEUE_SET_SIZE(", options.ring_notes,
                     " notes): ", DescribeErrno(sized->result)));
  }
  if (options.filter.has_value()) {
    watch_notification_filter head{};
    head.nr_filters = static_cast<uint32_t>(options.filter->size());
    PipeIoctl filter{id, IOC_WATCH_QUEUE_SET_FILTER, 0, {}};
    const auto* h = reinterpret_cast<const uint8_t*>(&head);
    filter.filter.assign(h, h + sizeof(head));
    const auto* e = reinterpret_cast<const uint8_t*>(options.filter->data());
    filter.filter.insert(
        filter.filter.end(), e,
        e + options.filter->size() * sizeof(watch_notification_type_filter));
    absl::StatusOr<Result> filtered = pipes_->PipeIoctl(filter);
    if (!filtered.ok()) return filtered.status();
    if (filtered->result != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("IOC_WATCH_QUEUE_SET_FILTER (", options.filter->size(),
                       " entries): ", DescribeErrno(filtered->result)));
    }
  }
  pipe_ids_[*key] = id;
  {
    MadePipes& made = Made();
    absl::MutexLock made_lock(&made.mu);
    made.pipes.insert({socket_path_, key->first, key->second});
  }
  return pipe;
}

}  // namespace xehil::simd
