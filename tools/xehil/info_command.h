// `xehil info`: the device behind a backend, its memory regions and engines,
// and whether this kernel (or the simulator) supports watch queues.
#ifndef XEHIL_TOOLS_XEHIL_INFO_COMMAND_H_
#define XEHIL_TOOLS_XEHIL_INFO_COMMAND_H_

#include <ostream>

#include "core/backend/kernel_backend.h"

namespace xehil {

// Writes the report for an open backend. Returns the process exit code: 0
// when the device answered its queries, 1 otherwise.
int PrintDeviceInfo(KernelBackend& backend, std::ostream& out);

// What `xehil info --backend=xe` says when no device could be opened: the
// reason, and the kernel's watch-queue support on its own.
void PrintNoDevice(const absl::Status& why, std::ostream& out);

}  // namespace xehil

#endif  // XEHIL_TOOLS_XEHIL_INFO_COMMAND_H_
