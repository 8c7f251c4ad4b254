// The capabilities of a device daemon that speaks the control protocol
// (proto/simd.proto): xehil-simd on the host, or the vxe guest daemon inside
// `xehil vm-run`. Faults, the VM observer and memory pressure all go over one
// control connection; files are named by the daemon's file ids (RemoteBackend
// files) or DRM client ids (vxe files, the same numbers by construction).
//
//   RunEnvironment env = ...;  // open_file set
//   XEHIL_RETURN_IF_ERROR(AttachDaemonCapabilities(socket, env));
#ifndef XEHIL_ENVIRONMENT_DAEMON_CAPABILITIES_H_
#define XEHIL_ENVIRONMENT_DAEMON_CAPABILITIES_H_

#include <string>

#include "absl/status/status.h"
#include "core/scenario/run_environment.h"

namespace xehil {

// Connects to the control socket and sets env.faults, env.observer and
// env.pressure (owned by env). The connection's error, naming the socket,
// otherwise.
absl::Status AttachDaemonCapabilities(const std::string& control_socket,
                                      RunEnvironment& env);

}  // namespace xehil

#endif  // XEHIL_ENVIRONMENT_DAEMON_CAPABILITIES_H_
