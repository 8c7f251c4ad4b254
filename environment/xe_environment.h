// A kernel's xe render node as a RunEnvironment: every file is a new open of
// the node through DrmBackend, named by its DRM client id; VRAM pressure comes
// from a BO hog on a file of its own (MakeXeVramInjector).
//
// A real xe driver offers no way to fail one VM's rebinds or restarts on
// demand, so there fault steps are skipped with that reason (the kernel's
// fail_function can only fail a function for every caller). Inside
// `xehil vm-run` the node is vxe, whose device model runs in the guest's
// xehil-simd: with $XEHIL_VXE_CONTROL naming its control socket, faults, the
// VM observer and pressure come from that daemon instead.
//
//   XEHIL_ASSIGN_OR_RETURN(RunEnvironment env, MakeXeEnvironment(""));
#ifndef XEHIL_ENVIRONMENT_XE_ENVIRONMENT_H_
#define XEHIL_ENVIRONMENT_XE_ENVIRONMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/scenario/run_environment.h"

namespace xehil {

// The environment variable `xehil vm-run` sets in the guest: the vxe guest
// daemon's control socket.
inline constexpr char kVxeControlEnv[] = "XEHIL_VXE_CONTROL";

// `node`: a render node path, or "" for the first xe node (FindXeRenderNode).
// NOT_FOUND / FAILED_PRECONDITION as DrmBackend::Open says when there is no
// usable node; FAILED_PRECONDITION when the kernel lacks CONFIG_WATCH_QUEUE.
absl::StatusOr<RunEnvironment> MakeXeEnvironment(const std::string& node);

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_XE_ENVIRONMENT_H_
