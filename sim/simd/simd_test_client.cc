// A victim process for xehil-simd tests: opens a DRM file on the daemon at
// argv[1], creates a restartable LR VM, registers descriptor 3 (a pipe write
// end the test passed) and subscribes it as watch 9, prints
// "ready FILE_ID VM_ID PIPE_ID", then waits to be killed.
//
// `simd_test_client attack SOCKET PIPE_ID`: another process going after a
// pipe it never registered. It tries SET_SIZE and SET_FILTER on its own
// pipes connection, ReleasePipe, and WATCH_QUEUE on its own DRM file, prints
// "set_size R set_filter R watch R" (each 0 or -errno) and exits 0.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/uapi/watch_uapi.h"
#include "core/uapi/xe_uapi.h"
#include "sim/simd/client.h"
#include "sim/simd/simd_test_util.h"

namespace {

using namespace xehil::simd;  // NOLINT(build/namespaces)

int Fail(const char* what, const absl::Status& status) {
  std::fprintf(stderr, "simd_test_client: %s: %s\n", what,
               std::string(status.message()).c_str());
  return 1;
}

int Attack(const char* socket, const char* id_text) {
  const uint64_t pipe_id = std::strtoull(id_text, nullptr, 10);
  absl::StatusOr<Client> drm = Client::Connect(socket, Role::kDrmFile, "evil");
  if (!drm.ok()) return Fail("connect", drm.status());
  absl::StatusOr<Client> pipes = Client::Connect(socket, Role::kPipes, "evil");
  if (!pipes.ok()) return Fail("connect pipes", pipes.status());
  absl::StatusOr<Result> sized =
      pipes->PipeIoctl({pipe_id, IOC_WATCH_QUEUE_SET_SIZE, 1, {}});
  if (!sized.ok()) return Fail("set size", sized.status());
  absl::StatusOr<Result> filtered =
      pipes->PipeIoctl({pipe_id, IOC_WATCH_QUEUE_SET_FILTER, 0, {}});
  if (!filtered.ok()) return Fail("set filter", filtered.status());
  if (absl::Status released = pipes->ReleasePipe(pipe_id); !released.ok()) {
    return Fail("release", released);
  }
  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(pipe_id);
  watch.watch_id = 66;
  absl::StatusOr<IoctlReply> watched = drm->Ioctl(
      xehil::simd::testing::MakeIoctl(DRM_IOCTL_XE_WATCH_QUEUE, watch));
  if (!watched.ok()) return Fail("WATCH_QUEUE", watched.status());
  std::printf("set_size %d set_filter %d watch %d\n", sized->result,
              filtered->result, watched->result);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "attack") {
    return Attack(argv[2], argv[3]);
  }
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: simd_test_client SOCKET (pipe on fd 3)\n"
                 "       simd_test_client attack SOCKET PIPE_ID\n");
    return 2;
  }
  absl::StatusOr<Client> drm =
      Client::Connect(argv[1], Role::kDrmFile, "victim");
  if (!drm.ok()) return Fail("connect", drm.status());
  absl::StatusOr<Client> pipes =
      Client::Connect(argv[1], Role::kPipes, "victim");
  if (!pipes.ok()) return Fail("connect pipes", pipes.status());

  drm_xe_vm_create create{};
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  absl::StatusOr<IoctlReply> created = drm->Ioctl(
      xehil::simd::testing::MakeIoctl(DRM_IOCTL_XE_VM_CREATE, create));
  if (!created.ok() || created->result != 0) {
    return Fail("VM_CREATE", created.status());
  }
  const uint32_t vm =
      xehil::simd::testing::ReplyArg<drm_xe_vm_create>(*created).vm_id;

  absl::StatusOr<Result> registered = pipes->RegisterPipe(3);
  if (!registered.ok() || registered->result != 0) {
    return Fail("register pipe", registered.status());
  }
  const uint64_t pipe_id = registered->value;
  absl::StatusOr<Result> sized =
      pipes->PipeIoctl({pipe_id, IOC_WATCH_QUEUE_SET_SIZE, 32, {}});
  if (!sized.ok() || sized->result != 0)
    return Fail("set size", sized.status());
  ::close(3);  // the daemon has its own descriptor of the pipe

  drm_xe_watch_queue watch{};
  watch.fd = static_cast<uint32_t>(pipe_id);
  watch.watch_id = 9;
  absl::StatusOr<IoctlReply> watched = drm->Ioctl(
      xehil::simd::testing::MakeIoctl(DRM_IOCTL_XE_WATCH_QUEUE, watch));
  if (!watched.ok() || watched->result != 0) {
    return Fail("WATCH_QUEUE", watched.status());
  }
  std::printf("ready %llu %u %llu\n",
              static_cast<unsigned long long>(drm->file_id()), vm,
              static_cast<unsigned long long>(pipe_id));
  std::fflush(stdout);
  for (;;) ::pause();
}
