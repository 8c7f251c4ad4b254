// simd::PipeRegistry: the daemon's notification pipes. Client processes pass
// the write end of an ordinary pipe (SCM_RIGHTS) and get a pipe id back; the
// id stands in for the descriptor in DRM_IOCTL_XE_WATCH_QUEUE and in the
// watch-queue ioctls. Ids are daemon-wide, never reused, and below 2^31 so
// they fit the UAPI's `fd` field.
//
// A pipe is identified by its inode, as the kernel does: registering a pipe
// whose queue still lives (registered twice, or released while a watch
// holds it) gives a new id for the same sim::NotificationQueue, so its size,
// filter and ring are shared.
//
//   PipeRegistry pipes;
//   absl::StatusOr<uint64_t> id = pipes.Register(std::move(fd), conn, pid);
//   std::shared_ptr<const PipeRegistry::Entry> pipe = pipes.Find(*id);
//   pipe->queue->SetSize(32);
//   pipes.ReleaseAll(conn);  // the registering connection closed
//
// Isolation: pipe ids are small and sequential, so they are not secrets.
// Only the registering connection may size, filter or release a pipe
// (FindOwned, Release), and only DRM files of the registering process may
// subscribe it (the server compares Entry::pid with the file's peer pid).
//
// Thread-safe.
#ifndef XEHIL_SIM_SIMD_PIPE_REGISTRY_H_
#define XEHIL_SIM_SIMD_PIPE_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/base/unique_fd.h"
#include "sim/notification_queue.h"

namespace xehil::simd {

class PipeRegistry {
 public:
  struct Entry {
    uint64_t id = 0;
    std::shared_ptr<sim::NotificationQueue> queue;
    // An O_PATH descriptor of the pipe that outlives the queue's handle
    // (CloseWriteEnd), so WATCH_QUEUE can still find the queue by inode.
    UniqueFd probe;
    uint64_t owner = 0;  // the registering connection
    uint32_t pid = 0;    // its process (SO_PEERCRED), 0 if unknown
  };

  struct Info {
    uint64_t id = 0;
    uint32_t pid = 0;
    uint32_t capacity_notes = 0;
    sim::NotificationQueue::Stats stats;
  };

  // Takes `write_end` (must be a pipe open for writing, else InvalidArgument)
  // and returns its new id.
  absl::StatusOr<uint64_t> Register(UniqueFd write_end, uint64_t owner,
                                    uint32_t pid);

  // The entry, or nullptr for an unknown or released id. The entry stays
  // valid while the caller holds it, even if released meanwhile.
  std::shared_ptr<const Entry> Find(uint64_t id) const;

  // Like Find, but only for the connection that registered `id`: another
  // connection's pipe is as unknown to it as a descriptor of another
  // process is to the kernel (the caller answers -EBADF).
  std::shared_ptr<const Entry> FindOwned(uint64_t id, uint64_t owner) const;

  // Drops the registry's reference to `id` if `owner` registered it
  // (watches keep the queue alive). False if it did not.
  bool Release(uint64_t id, uint64_t owner);
  // Drops every pipe `owner` registered.
  void ReleaseAll(uint64_t owner);

  // How many registered pipes `owner` holds.
  size_t CountOwnedBy(uint64_t owner) const;

  // Every registered pipe, by id.
  std::vector<Info> List() const;
  uint64_t registered_total() const;

 private:
  mutable absl::Mutex mu_;
  std::map<uint64_t, std::shared_ptr<const Entry>> entries_
      ABSL_GUARDED_BY(mu_);
  // Every queue made so far, to find one by inode after its entry went.
  std::vector<std::weak_ptr<sim::NotificationQueue>> queues_
      ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t registered_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_PIPE_REGISTRY_H_
