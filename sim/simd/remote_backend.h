// simd::RemoteBackend: a KernelBackend whose DRM file lives in xehil-simd,
// so C++ code (XeDevice, the recovery engine, scenarios, tests) can share
// one simulated device with unmodified programs. It does what the LD_PRELOAD
// interposer does for C programs: ships each ioctl's argument and the memory
// behind its user pointers (ioctl_buffers.h), copies the results back, and
// registers notification pipes by SCM_RIGHTS, translating their descriptors
// to pipe ids in DRM_IOCTL_XE_WATCH_QUEUE (a pipe another RemoteBackend
// of this process opened may be subscribed too, as on a kernel).
//
//   XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<RemoteBackend> backend,
//                          RemoteBackend::Connect(socket_path));
//   XeDevice xe(*backend);
//
// Thread-safe (one call on the socket at a time). A broken connection makes
// every ioctl fail with -EIO.
#ifndef XEHIL_SIM_SIMD_REMOTE_BACKEND_H_
#define XEHIL_SIM_SIMD_REMOTE_BACKEND_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/backend/kernel_backend.h"
#include "sim/simd/client.h"

namespace xehil::simd {

class RemoteBackend : public KernelBackend {
 public:
  // Opens a DRM file on the daemon at `socket_path`.
  static absl::StatusOr<std::unique_ptr<RemoteBackend>> Connect(
      const std::string& socket_path, const std::string& program = "xehil");

  int Ioctl(unsigned long request, void* arg) override;
  // An ordinary pipe, registered with the daemon, sized and filtered there.
  absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions& options) override;
  std::string Name() const override { return "simd"; }
  std::string Description() const override { return description_; }

  uint64_t file_id() const { return file_id_; }
  // The daemon's id for a pipe opened here (either end), or 0.
  uint64_t PipeId(int fd) const;

 private:
  // A notification pipe another RemoteBackend of this process opened on the
  // same daemon, registered on this file's pipes connection: its id, or 0.
  uint64_t AdoptPipe(int fd);
  RemoteBackend(Client file, std::string socket_path);

  const std::string socket_path_;
  const uint64_t file_id_;
  const std::string description_;
  mutable absl::Mutex mu_;
  Client file_ ABSL_GUARDED_BY(mu_);
  std::optional<Client> pipes_ ABSL_GUARDED_BY(mu_);  // connected on first use
  std::map<std::pair<dev_t, ino_t>, uint64_t> pipe_ids_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_REMOTE_BACKEND_H_
