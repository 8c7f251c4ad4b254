// simd::DrmFile: one kDrmFile connection's open DRM file in the daemon. It
// runs the ioctls that arrive over the wire on a sim::SimBackend exactly as
// an in-process caller would:
//  - the argument must be _IOC_SIZE(request) bytes (else -EINVAL, counted);
//  - every user pointer the decoder follows (ioctl_buffers.h) points at the
//    daemon's copy of the matching wire Buffer when one of at least the
//    needed size was shipped, else at nothing (the decoder then answers
//    -EFAULT); the client's pointer values come back unchanged in the reply;
//  - DRM_IOCTL_XE_WATCH_QUEUE's `fd` carries a PipeRegistry id, translated
//    to the daemon's pipe (an unknown id is "not a notification pipe":
//    -EINVAL; a pipe registered by another process is, like another
//    process's descriptor, -EBADF; the same pipe twice on one file: -EBUSY);
//  - successful VM_CREATE, VM_BIND and WATCH_QUEUE calls feed the rule
//    engine.
// Destroying it releases the file (removal records, VMs destroyed).
//
//   DrmFile file(device->Open(), peer_pid, pid, program, pipes, rules,
//                on_watch);
//   IoctlReply reply = file.Ioctl(std::move(request));
//
// Not thread-safe: one connection thread owns it.
#ifndef XEHIL_SIM_SIMD_DRM_FILE_H_
#define XEHIL_SIM_SIMD_DRM_FILE_H_

#include <functional>
#include <memory>
#include <set>

#include "sim/notification_queue.h"
#include "sim/sim_backend.h"
#include "sim/simd/pipe_registry.h"
#include "sim/simd/rules.h"
#include "sim/simd/wire.h"

namespace xehil::simd {

// False if the reply to `request` could exceed kMaxMessageBytes (its out
// buffers are too large): a protocol violation, not an ioctl error.
bool IoctlReplyFits(const IoctlRequest& request);

class DrmFile {
 public:
  // `peer_pid` is the client's process as the kernel saw it (SO_PEERCRED;
  // 0 if unknown: then no pipe may be subscribed); `pid` what logs show.
  // `on_watch` runs after each successful WATCH_QUEUE (for statistics).
  DrmFile(std::unique_ptr<sim::SimBackend> backend, uint32_t peer_pid,
          uint32_t pid, std::string program, PipeRegistry& pipes,
          RuleEngine& rules, std::function<void()> on_watch);
  DrmFile(const DrmFile&) = delete;
  DrmFile& operator=(const DrmFile&) = delete;

  sim::FileId id() const { return ref_.id; }
  const FileRef& ref() const { return ref_; }

  IoctlReply Ioctl(IoctlRequest request);

 private:
  // Points the WATCH_QUEUE argument at the daemon's pipe for its id; the
  // returned entry keeps that descriptor open for the call. -EBADF (and
  // nothing changed) for another process's pipe.
  int TranslateWatch(uint8_t* arg,
                     std::shared_ptr<const PipeRegistry::Entry>* entry);
  void AfterSuccess(uint64_t request, const uint8_t* arg);

  std::unique_ptr<sim::SimBackend> backend_;
  const uint32_t peer_pid_;
  FileRef ref_;
  PipeRegistry& pipes_;
  RuleEngine& rules_;
  std::function<void()> on_watch_;
  // Queues already registered with the device for this file; the device
  // keeps them alive for the file's lifetime, so the pointers stay unique.
  std::set<const sim::NotificationQueue*> adopted_;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_DRM_FILE_H_
