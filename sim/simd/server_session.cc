// One connection of the daemon: Hello and role, then the role's messages;
// protocol violations end the connection with a kError; leaving releases
// the connection's file or pipes.
#include <errno.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/uapi/watch_uapi.h"
#include "sim/simd/drm_file.h"
#include "sim/simd/server.h"

namespace xehil::simd {
namespace {

const char* TypeName(uint16_t type) {
  switch (static_cast<MessageType>(type)) {
    case MessageType::kHello:
      return "Hello";
    case MessageType::kHelloReply:
      return "HelloReply";
    case MessageType::kIoctl:
      return "Ioctl";
    case MessageType::kIoctlReply:
      return "IoctlReply";
    case MessageType::kRegisterPipe:
      return "RegisterPipe";
    case MessageType::kPipeIoctl:
      return "PipeIoctl";
    case MessageType::kReleasePipe:
      return "ReleasePipe";
    case MessageType::kResult:
      return "Result";
    case MessageType::kControl:
      return "Control";
    case MessageType::kControlReply:
      return "ControlReply";
    case MessageType::kError:
      return "Error";
  }
  return "unknown";
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kDrmFile:
      return "DRM-file";
    case Role::kPipes:
      return "pipes";
    case Role::kControl:
      return "control";
  }
  return "unknown";
}

// IOC_WATCH_QUEUE_SET_FILTER with the filter bytes the client copied from
// its memory: the header, then nr_filters entries.
int SetFilter(sim::NotificationQueue& queue,
              const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) return queue.SetFilter(nullptr);
  watch_notification_filter head{};
  if (bytes.size() < sizeof(head)) return -EFAULT;
  std::memcpy(&head, bytes.data(), sizeof(head));
  size_t needed = sizeof(head);
  // The queue reads entries only once the header passed its checks.
  if (head.__reserved == 0 && head.nr_filters >= 1 &&
      head.nr_filters <= XEHIL_WATCH_FILTER_MAX) {
    needed += head.nr_filters * sizeof(watch_notification_type_filter);
  }
  if (bytes.size() < needed) return -EFAULT;
  std::vector<uint32_t> aligned((needed + 3) / 4, 0);
  std::memcpy(aligned.data(), bytes.data(), needed);
  return queue.SetFilter(
      reinterpret_cast<const watch_notification_filter*>(aligned.data()));
}

// Each registered pipe holds two of the daemon's descriptors.
constexpr size_t kMaxPipesPerConnection = 256;

}  // namespace

class Server::Session {
 public:
  Session(Server& server, Connection& connection)
      : server_(server),
        connection_(connection),
        id_(connection.id),
        fd_(connection.fd.get()),
        peer_pid_(connection.peer_pid),
        pid_(peer_pid_) {}
  ~Session() { Finish(); }

  void Run() {
    Datagram datagram;
    for (;;) {
      // Before its Hello a connection holds a slot for nothing: bounded.
      const int timeout =
          role_.has_value() ? -1 : server_.options_.handshake_timeout_ms;
      absl::Status received =
          ReceiveDatagram(fd_, timeout, &datagram, server_.stop_fd_.get());
      if (received.code() == absl::StatusCode::kDeadlineExceeded) {
        HandshakeTimedOut();
        return;
      }
      if (!received.ok()) return;  // closed, reset, evicted or stopping
      if (!Handle(datagram)) return;
    }
  }

 private:
  // False ends the connection.
  bool Handle(Datagram& datagram) {
    if (datagram.truncated) {
      return Violation(
          0, absl::StrCat("message larger than ", kMaxMessageBytes, " bytes"));
    }
    if (datagram.fds_truncated) {
      return Violation(0, "too many descriptors attached");
    }
    Message message;
    std::string why;
    if (!Decode(datagram.bytes.data(), datagram.bytes.size(), &message, &why)) {
      return Violation(0, absl::StrCat("malformed message: ", why));
    }
    const uint32_t seq = message.header.seq;
    const auto type = static_cast<MessageType>(message.header.type);
    if (!datagram.fds.empty() && type != MessageType::kRegisterPipe) {
      return Violation(seq,
                       absl::StrCat("descriptors attached to a ",
                                    TypeName(message.header.type), " message"));
    }
    if (!role_.has_value()) {
      if (type != MessageType::kHello) {
        return Violation(seq, absl::StrCat("expected Hello, got ",
                                           TypeName(message.header.type)));
      }
      return OnHello(seq, message.hello);
    }
    switch (type) {
      case MessageType::kIoctl:
        if (*role_ != Role::kDrmFile) break;
        return OnIoctl(seq, std::move(message.ioctl));
      case MessageType::kRegisterPipe:
        if (*role_ != Role::kPipes) break;
        return OnRegisterPipe(seq, datagram);
      case MessageType::kPipeIoctl:
        if (*role_ != Role::kPipes) break;
        return Send(EncodeResult(seq, {PipeIoctl(message.pipe_ioctl), 0}));
      case MessageType::kReleasePipe:
        if (*role_ != Role::kPipes) break;
        server_.pipes_.Release(message.pipe_id, id_);
        return true;
      case MessageType::kControl:
        if (*role_ != Role::kControl) break;
        return OnControl(seq, message.payload);
      default:
        break;
    }
    return Violation(
        seq, absl::StrCat(TypeName(message.header.type), " is not valid on a ",
                          RoleName(*role_), " connection"));
  }

  void HandshakeTimedOut() {
    const std::string why =
        absl::StrCat("no Hello within ", server_.options_.handshake_timeout_ms,
                     " ms; dropped");
    server_.Log(absl::StrCat("connection ", id_, " (pid ", pid_, "): ", why));
    const std::vector<uint8_t> error = EncodeError(0, {-ETIMEDOUT, why});
    ::send(fd_, error.data(), error.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  bool OnHello(uint32_t seq, const Hello& hello) {
    if (hello.role != Role::kDrmFile && hello.role != Role::kPipes &&
        hello.role != Role::kControl) {
      return Violation(seq, absl::StrCat("unknown role ",
                                         static_cast<uint32_t>(hello.role)));
    }
    {
      absl::MutexLock lock(&server_.mu_);
      // Dropped to make room while its Hello was on the way.
      if (connection_.evicted) return false;
      connection_.greeted = true;
    }
    role_ = hello.role;
    if (pid_ == 0) pid_ = hello.pid;
    program_ = hello.program.substr(0, 256);
    HelloReply reply;
    reply.description = server_.device_->Description();
    if (hello.role == Role::kDrmFile) {
      {
        absl::MutexLock lock(&server_.mu_);
        Server& server = server_;
        file_ = std::make_unique<DrmFile>(
            server.device_->Open(), peer_pid_, pid_, program_, server.pipes_,
            server.rules_, [&server, this] {
              absl::MutexLock watch_lock(&server.mu_);
              auto it = server.files_.find(file_->id());
              if (it != server.files_.end()) ++it->second.watches;
            });
        server_.files_[file_->id()] = {pid_, program_, 0};
        server_.CountProcessFile(pid_, /*opened=*/true);
        server_.counters_.set_files_opened(server_.counters_.files_opened() +
                                           1);
      }
      reply.file_id = file_->id();
      server_.Log(absl::StrCat("file ", file_->id(), " opened by ", program_,
                               " (pid ", pid_, ")"));
      server_.rules_.OnEvent(RuleEvent::kFileOpened, file_->ref(), 0);
    }
    return Send(EncodeHelloReply(seq, reply));
  }

  bool OnIoctl(uint32_t seq, IoctlRequest request) {
    if (!IoctlReplyFits(request)) {
      return Violation(seq, "ioctl out buffers exceed the reply size limit");
    }
    const uint64_t number = request.request;
    IoctlReply reply = file_->Ioctl(std::move(request));
    server_.CountProcessIoctl(pid_, number, reply.result);
    return Send(EncodeIoctlReply(seq, reply));
  }

  bool OnRegisterPipe(uint32_t seq, Datagram& datagram) {
    Result result;
    if (datagram.fds.size() != 1) {
      result.result = -EINVAL;  // the descriptors close with the datagram
    } else if (server_.pipes_.CountOwnedBy(id_) >= kMaxPipesPerConnection) {
      result.result = -EMFILE;  // the daemon's descriptors are shared
    } else {
      absl::StatusOr<uint64_t> id =
          server_.pipes_.Register(std::move(datagram.fds[0]), id_, peer_pid_);
      result.result = id.ok() ? 0 : -EINVAL;
      result.value = id.ok() ? *id : 0;
    }
    datagram.fds.clear();
    return Send(EncodeResult(seq, result));
  }

  int PipeIoctl(const simd::PipeIoctl& request) {
    // Another connection's pipe is not ours to touch: -EBADF, as for a
    // descriptor this process does not have.
    std::shared_ptr<const PipeRegistry::Entry> pipe =
        server_.pipes_.FindOwned(request.pipe_id, id_);
    if (pipe == nullptr) return -EBADF;
    switch (request.request) {
      case IOC_WATCH_QUEUE_SET_SIZE:
        return pipe->queue->SetSize(static_cast<unsigned long>(request.value));
      case IOC_WATCH_QUEUE_SET_FILTER:
        return SetFilter(*pipe->queue, request.filter);
      default:
        return -ENOTTY;
    }
  }

  bool OnControl(uint32_t seq, const std::vector<uint8_t>& payload) {
    return Send(server_.AnswerControlMessage(seq, payload));
  }

  bool Send(const std::vector<uint8_t>& bytes) {
    return SendDatagram(fd_, bytes, {}, server_.stop_fd_.get()).ok();
  }

  bool Violation(uint32_t seq, const std::string& why) {
    {
      absl::MutexLock lock(&server_.mu_);
      server_.counters_.set_protocol_errors(
          server_.counters_.protocol_errors() + 1);
    }
    server_.Log(absl::StrCat("connection ", id_, " (pid ", pid_,
                             "): protocol error: ", why, "; closing it"));
    const std::vector<uint8_t> error = EncodeError(seq, {-EPROTO, why});
    ::send(fd_, error.data(), error.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return false;
  }

  // Releases what the connection held and marks it finished, all in one
  // critical section with the file's release, so that once a status or
  // WaitReleased sees the file gone, its connection slot is free too.
  void Finish() {
    // The client sees EOF at once, even before the thread is joined.
    ::shutdown(fd_, SHUT_RDWR);
    if (role_ == Role::kPipes) server_.pipes_.ReleaseAll(id_);
    std::optional<FileRef> released;
    {
      absl::MutexLock lock(&server_.mu_);
      if (file_ != nullptr) {
        released = file_->ref();
        file_.reset();  // the device posts removals, destroys the VMs
        server_.files_.erase(released->id);
        server_.counters_.set_files_released(
            server_.counters_.files_released() + 1);
        server_.CountProcessFile(pid_, /*opened=*/false);
      }
      server_.finished_.push_back(id_);
      if (!connection_.evicted) --server_.live_;  // else done when evicted
    }  // unlocking wakes WaitReleased's Await
    if (released.has_value()) {
      server_.rules_.ForgetFile(released->id);
      server_.Log(absl::StrCat("file ", released->id, " released (",
                               released->program, ", pid ", released->pid,
                               ")"));
    }
  }

  Server& server_;
  Connection& connection_;
  const uint64_t id_;
  const int fd_;
  // The client's process as the kernel saw it at connect(): what pipe
  // isolation trusts. `pid_` may come from Hello when that is 0 (logs only).
  const uint32_t peer_pid_;
  uint32_t pid_;
  std::string program_;
  std::optional<Role> role_;
  std::unique_ptr<DrmFile> file_;
};

void Server::Serve(Connection* connection) {
  {
    Session session(*this, *connection);
    session.Run();
  }  // ~Session: Finish()
  const uint64_t one = 1;
  while (::write(reap_fd_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

}  // namespace xehil::simd
