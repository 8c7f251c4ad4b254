// sim::SimBackend: one open DRM file on a shared sim::Device, behind the same
// KernelBackend seam as the real driver. Ioctl() takes the real UAPI structs
// (see ioctl_decode.h); OpenNotificationPipe() makes an ordinary pipe that
// the device writes byte-identical watch-queue records into. Destroying the
// backend releases the file: each watch gets a removal record, then its VMs,
// BOs and exec queues go.
//
//   std::shared_ptr<Device> device = *Device::Create("dg2-16g");
//   std::unique_ptr<SimBackend> backend = device->Open();
//   XeDevice xe(*backend);  // core/device: the same client as on hardware
//   XEHIL_ASSIGN_OR_RETURN(uint32_t vm, xe.CreateVm(kRestartableLr));
//
// Thread-safe. The backend keeps its Device alive.
#ifndef XEHIL_SIM_SIM_BACKEND_H_
#define XEHIL_SIM_SIM_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/backend/kernel_backend.h"
#include "sim/device.h"

namespace xehil::sim {

class SimBackend : public KernelBackend {
 public:
  // Opens a new DRM file on `device` (what Device::Open() does).
  explicit SimBackend(std::shared_ptr<Device> device);
  ~SimBackend() override;
  SimBackend(const SimBackend&) = delete;
  SimBackend& operator=(const SimBackend&) = delete;

  // 0 or -errno; -ENOTTY for requests the simulator does not know. Each call
  // is counted in Device::counters() by name and result.
  int Ioctl(unsigned long request, void* arg) override;

  // NotificationQueue::Create, SetSize(ring_notes), SetFilter if given, then
  // registered with the device so that DRM_IOCTL_XE_WATCH_QUEUE finds it.
  // A bad size or filter is InvalidArgument naming the errno. The pipe stays
  // usable while this file is open or a watch holds it.
  absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions& options) override;

  std::string Name() const override { return "sim"; }
  std::string Description() const override { return device_->Description(); }

  // This file's id, for the device's fault-script and introspection calls.
  FileId file_id() const { return file_; }
  Device& device() const { return *device_; }

 private:
  const std::shared_ptr<Device> device_;
  const FileId file_;
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_SIM_BACKEND_H_
