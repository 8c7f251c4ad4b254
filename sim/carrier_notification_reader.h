// sim::CarrierNotificationReader: the NotificationReader that the in-process
// backends (SimBackend, simd's RemoteBackend) put on the notification pipes
// they make. It is CarrierReader (the kernel's pipe_read() over the carrier
// pipe) plus what the caller of read(2) expects: blocking unless the read end
// is O_NONBLOCK, and EOF once the carrier has no writer left.
//
// In-process the simulator keeps its own write end of the carrier until the
// DRM file is released, so EOF comes after that release (and after the
// user's write end closed), not as soon as the user's write end closes as on
// a kernel; programs that depend on the latter run under the interposer or
// on vxe, which follow the kernel.
//
//   absl::StatusOr<std::shared_ptr<NotificationReader>> reader =
//       MakeCarrierNotificationReader();
//   pipe.reader = *reader;
//   ssize_t n = ReadNotificationPipe(pipe, buf, sizeof(buf));
#ifndef XEHIL_SIM_CARRIER_NOTIFICATION_READER_H_
#define XEHIL_SIM_CARRIER_NOTIFICATION_READER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"

namespace xehil::sim {

// A reader for one carrier pipe (it keeps that pipe's note_loss).
absl::StatusOr<std::shared_ptr<NotificationReader>>
MakeCarrierNotificationReader();

}  // namespace xehil::sim

#endif  // XEHIL_SIM_CARRIER_NOTIFICATION_READER_H_
