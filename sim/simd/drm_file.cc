#include "sim/simd/drm_file.h"

#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "core/uapi/xe_uapi.h"
#include "sim/ioctl_decode.h"
#include "sim/simd/ioctl_buffers.h"

namespace xehil::simd {
namespace {

uint64_t LoadU64(const uint8_t* at) {
  uint64_t value;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

void StoreU64(uint8_t* at, uint64_t value) {
  std::memcpy(at, &value, sizeof(value));
}

}  // namespace

bool IoctlReplyFits(const IoctlRequest& request) {
  // Header, result, arg blob, out count, then one blob per out buffer.
  uint64_t size = sizeof(Header) + 4 + 4 + request.arg.size() + 4;
  for (const Buffer& buffer : request.buffers) {
    if (buffer.flags & kBufferOut) size += 4 + buffer.bytes.size();
  }
  return size <= kMaxMessageBytes;
}

DrmFile::DrmFile(std::unique_ptr<sim::SimBackend> backend, uint32_t peer_pid,
                 uint32_t pid, std::string program, PipeRegistry& pipes,
                 RuleEngine& rules, std::function<void()> on_watch)
    : backend_(std::move(backend)),
      peer_pid_(peer_pid),
      ref_{backend_->file_id(), pid, std::move(program)},
      pipes_(pipes),
      rules_(rules),
      on_watch_(std::move(on_watch)) {}

int DrmFile::TranslateWatch(uint8_t* arg,
                            std::shared_ptr<const PipeRegistry::Entry>* found) {
  drm_xe_watch_queue watch;
  std::memcpy(&watch, arg, sizeof(watch));
  std::shared_ptr<const PipeRegistry::Entry> entry = pipes_.Find(watch.fd);
  if (entry != nullptr && (peer_pid_ == 0 || entry->pid != peer_pid_)) {
    return -EBADF;  // not a descriptor of this process
  }
  if (entry == nullptr) {
    watch.fd = UINT32_MAX;  // -1: no descriptor refers to a queue
  } else {
    if (adopted_.insert(entry->queue.get()).second) {
      backend_->device().AdoptQueue(ref_.id, entry->queue);
    }
    watch.fd = static_cast<uint32_t>(entry->probe.get());
  }
  std::memcpy(arg, &watch, sizeof(watch));
  *found = std::move(entry);
  return 0;
}

IoctlReply DrmFile::Ioctl(IoctlRequest request) {
  const uint64_t number = request.request;
  const size_t size = request.arg.size();
  IoctlReply reply;
  for (const Buffer& buffer : request.buffers) {
    if (buffer.flags & kBufferOut) reply.out.push_back(buffer.bytes);
  }
  const std::string name = sim::IoctlName(number);
  if (name != "UNKNOWN" && size != _IOC_SIZE(number)) {
    backend_->device().CountIoctl(name, -EINVAL);
    reply.result = -EINVAL;
    reply.arg = std::move(request.arg);
    return reply;
  }

  // The decoder casts the argument to its struct: keep it 8-byte aligned.
  std::vector<uint64_t> storage(size / sizeof(uint64_t) + 1, 0);
  uint8_t* arg = reinterpret_cast<uint8_t*>(storage.data());
  if (size != 0) std::memcpy(arg, request.arg.data(), size);

  struct Patched {
    uint32_t offset;
    uint64_t original;
  };
  std::vector<Patched> patched;
  for (const PointerField& field : PointerFields(number, arg, size)) {
    uint64_t address = 0;
    for (Buffer& buffer : request.buffers) {
      if (buffer.field_offset != field.offset) continue;
      if (field.bytes != 0 && buffer.bytes.size() >= field.bytes) {
        address = reinterpret_cast<uintptr_t>(buffer.bytes.data());
      } else if (field.length_offset >= 0 && !buffer.bytes.empty()) {
        // The decoder copies at most the length: lower it to what we have.
        StoreU64(arg + field.length_offset, buffer.bytes.size());
        address = reinterpret_cast<uintptr_t>(buffer.bytes.data());
      }
      break;
    }
    patched.push_back({field.offset, LoadU64(arg + field.offset)});
    StoreU64(arg + field.offset, address);
  }
  std::shared_ptr<const PipeRegistry::Entry> pipe;
  uint32_t pipe_id = 0;
  const bool watch = number == DRM_IOCTL_XE_WATCH_QUEUE;
  if (watch) {
    std::memcpy(&pipe_id, arg + offsetof(drm_xe_watch_queue, fd),
                sizeof(pipe_id));
    if (int rc = TranslateWatch(arg, &pipe); rc != 0) {
      backend_->device().CountIoctl(name, rc);
      reply.result = rc;
      reply.arg = std::move(request.arg);
      return reply;
    }
  }

  reply.result = backend_->Ioctl(number, arg);

  for (const Patched& p : patched) StoreU64(arg + p.offset, p.original);
  if (watch) {
    std::memcpy(arg + offsetof(drm_xe_watch_queue, fd), &pipe_id,
                sizeof(pipe_id));
  }
  reply.arg.assign(arg, arg + size);
  reply.out.clear();
  for (Buffer& buffer : request.buffers) {
    if (buffer.flags & kBufferOut) reply.out.push_back(std::move(buffer.bytes));
  }
  if (reply.result == 0) AfterSuccess(number, arg);
  return reply;
}

void DrmFile::AfterSuccess(uint64_t request, const uint8_t* arg) {
  switch (request) {
    case DRM_IOCTL_XE_VM_CREATE: {
      drm_xe_vm_create create;
      std::memcpy(&create, arg, sizeof(create));
      rules_.OnEvent(RuleEvent::kVmCreated, ref_, create.vm_id);
      break;
    }
    case DRM_IOCTL_XE_VM_BIND: {
      drm_xe_vm_bind bind;
      std::memcpy(&bind, arg, sizeof(bind));
      rules_.OnEvent(RuleEvent::kVmBound, ref_, bind.vm_id);
      break;
    }
    case DRM_IOCTL_XE_WATCH_QUEUE:
      if (on_watch_) on_watch_();
      rules_.OnEvent(RuleEvent::kWatchSubscribed, ref_, 0);
      break;
    default:
      break;
  }
}

}  // namespace xehil::simd
