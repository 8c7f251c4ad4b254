// simd::VxeServer: xehil-simd serving a sim::Device to the vxe kernel driver
// through its control device (/dev/vxe_ctl, ABI in vxe/driver/vxe_ctl.h)
// instead of a socket. The kernel owns the render node, the notification
// pipes and the watches; this side owns the device model:
//  - OPEN: a sim DRM file (DrmFile) per kernel file id, named after the
//    opener's argv[0] for the script rules; file_opened rules fire;
//  - IOCTL: decoded exactly as for socket clients (ioctl_decode, counting,
//    script rules), user pointers resolved in the caller (vxe_ioctl.h);
//  - WATCHED: watch_subscribed rules fire before the caller's ioctl returns;
//  - RELEASE: the sim file goes (VMs, BOs, exec queues);
//  - every VM_ERR record the device posts for a file is written back as a
//    POST for its kernel file id (sim::Device::SetRecordSink), so the
//    kernel's post_watch_notification applies ring, filter and loss rules.
//
// With `control_socket` it also serves the socket daemon's control protocol
// (proto/simd.proto ControlRequest, control_service.h) on that Unix socket,
// control connections only (control_listener.h), on threads of its own:
// a control client never holds up the control device. There, and in
// Status(), a file's id is its kernel file id, which is the DRM client id a
// program reads for its own file from /proc/self/fdinfo (ReadDrmClientId).
//
//   VxeServerOptions options;
//   options.control_socket = "/run/xehil-simd.sock";
//   XEHIL_ASSIGN_OR_RETURN(auto server,
//                          VxeServer::Open("/dev/vxe_ctl", options));
//   absl::Status ended = server->Serve(stop_fd);  // until stop_fd is readable
//
// Serve() runs on one thread; Status() and Control() on any.
#ifndef XEHIL_SIM_SIMD_VXE_SERVER_H_
#define XEHIL_SIM_SIMD_VXE_SERVER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/base/unique_fd.h"
#include "proto/simd.pb.h"
#include "sim/device.h"
#include "sim/simd/control_listener.h"
#include "sim/simd/control_service.h"
#include "sim/simd/drm_file.h"
#include "sim/simd/pipe_registry.h"
#include "sim/simd/rules.h"
#include "vxe/driver/vxe_ctl.h"

namespace xehil::simd {

struct VxeServerOptions {
  // A built-in profile by name, unless `profile` is given (tests).
  std::string device_profile = "dg2-16g";
  std::optional<sim::DeviceProfile> profile;
  sim::SimdScript script;  // validated by the caller (LoadScriptFile)
  // One line per file open/release, rule firing and channel error.
  std::function<void(const std::string&)> log;
  // A Unix socket for control connections; "" for none.
  std::string control_socket;
  int max_control_connections = 16;
  // How long a control connection may stay silent before its Hello.
  int handshake_timeout_ms = 5000;
};

class VxeServer : private ControlTarget {
 public:
  // Opens the control device: FailedPrecondition naming the module when it
  // is missing, Unavailable (EBUSY) when another daemon holds it. Then
  // listens on options.control_socket, if given (ControlListener::Start's
  // errors).
  static absl::StatusOr<std::unique_ptr<VxeServer>> Open(
      const std::string& path, VxeServerOptions options);
  // Serves `control`, any descriptor with the control device's framing (one
  // message per read and write; tests use a SOCK_SEQPACKET socket pair).
  static absl::StatusOr<std::unique_ptr<VxeServer>> Create(
      UniqueFd control, VxeServerOptions options);
  ~VxeServer();
  VxeServer(const VxeServer&) = delete;
  VxeServer& operator=(const VxeServer&) = delete;

  // Serves events until `stop_fd` is readable (OK) or the channel ends
  // (Unavailable) or fails (the errno's status). Files still open are
  // released on return.
  absl::Status Serve(int stop_fd);

  // The device, its open files (by kernel file id) and the rules, as the
  // socket daemon reports.
  sim::DeviceStatus Status() const;
  // Runs one control request, as a control connection does.
  sim::ControlReply Control(const sim::ControlRequest& request);
  const std::shared_ptr<sim::Device>& device() const { return device_; }

 private:
  struct OpenFile {
    uint64_t kernel_id = 0;
    std::unique_ptr<DrmFile> file;
    uint32_t watches = 0;
  };

  VxeServer(UniqueFd control, VxeServerOptions options,
            std::shared_ptr<sim::Device> device);
  // Handles one event; an error ends Serve().
  absl::Status Handle(const vxe_ctl_event& event);
  absl::Status Reply(const vxe_ctl_event& event, int result,
                     absl::Span<const uint8_t> arg);
  // The device's record sink (device lock held: touches only mu_ state).
  void Post(sim::FileId file, absl::Span<const uint8_t> record);
  void ReleaseAll();
  void Log(const std::string& line) const;

  // ControlTarget (control connection threads).
  sim::DeviceStatus ControlStatus() const override { return Status(); }
  sim::Device& ControlDevice() const override { return *device_; }
  RuleEngine& ControlRules() override { return rules_; }
  absl::StatusOr<sim::FileId> FindOpenFile(uint64_t file_id) const override;
  absl::Status WaitReleased(const sim::WaitReleased& wait) override;
  void ControlLog(const std::string& line) const override { Log(line); }

  VxeServerOptions options_;
  const std::shared_ptr<sim::Device> device_;
  UniqueFd control_;
  PipeRegistry pipes_;  // DrmFile's; unused (the kernel owns the pipes)
  RuleEngine rules_;

  mutable absl::Mutex mu_;  // a leaf lock (taken under the device's)
  // A file was released (signalled once its DrmFile is gone, which happens
  // outside mu_), or stopping.
  absl::CondVar released_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // By kernel file id. Only Serve()'s thread adds or erases entries.
  std::map<uint64_t, OpenFile> files_ ABSL_GUARDED_BY(mu_);
  // Sim file id -> kernel file id.
  std::map<sim::FileId, uint64_t> kernel_ ABSL_GUARDED_BY(mu_);

  // Started last, stopped first: its threads use everything above.
  std::unique_ptr<ControlListener> listener_;
};

}  // namespace xehil::simd

#endif  // XEHIL_SIM_SIMD_VXE_SERVER_H_
