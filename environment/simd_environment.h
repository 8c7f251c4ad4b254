// A running xehil-simd as a RunEnvironment: every file is a new connection
// (simd::RemoteBackend) to the daemon's one simulated device, shared with
// whatever else uses that daemon, named by the daemon's file id. Faults, the
// VM observer and pressure go over the daemon's control channel.
//
//   XEHIL_ASSIGN_OR_RETURN(RunEnvironment env,
//                          MakeSimdEnvironment("/run/user/1000/xehil-simd.sock"));
#ifndef XEHIL_ENVIRONMENT_SIMD_ENVIRONMENT_H_
#define XEHIL_ENVIRONMENT_SIMD_ENVIRONMENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/scenario/run_environment.h"

namespace xehil {

// `socket`: the daemon's socket, or "" for its default path. UNAVAILABLE
// (naming the socket) when no daemon answers there.
absl::StatusOr<RunEnvironment> MakeSimdEnvironment(const std::string& socket);

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_SIMD_ENVIRONMENT_H_
