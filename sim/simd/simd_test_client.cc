// A victim process for xehil-simd tests: opens a DRM file on the daemon at
// argv[1], creates a restartable LR VM, registers descriptor 3 (a pipe write
// end the test passed) and subscribes it as watch 9, prints
// "ready FILE_ID VM_ID PIPE_ID", then waits to be killed.
#include <signal.h>
#include <unistd.h>

#include <cstdio>

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

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: simd_test_client SOCKET (pipe on fd 3)\n");
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
