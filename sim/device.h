// sim::Device: a simulated Xe GPU, in-process. All state lives in this object
// (no globals) under one mutex: DRM files with their VMs, BOs, exec queues and
// watches; the memory model; the fault script; counters; and one owned worker
// thread that runs preempt-rebind work, as the kernel's rebind worker does.
//
// The VM-error loop it models: memory pressure (or a scripted trigger) evicts
// BOs of VMs in preempt-fence mode (LR_MODE without FAULT_MODE) and queues
// their rebind on the worker. A rebind consults the fault script, then
// re-places the evicted BOs. -EAGAIN is retried. A failure of -ENOMEM or
// -ENOSPC pauses a RESTARTABLE VM and posts a VM_ERR record to the watches of
// the file that owns the VM; any other failure, or any failure of a VM that is
// not restartable, bans the VM. VM_RESTART re-runs the rebind synchronously.
//
// Userspace reaches a Device through sim::SimBackend (one per DRM file), which
// decodes the real ioctl structs; the typed methods below are what the
// decoder calls, plus fault-script, memory and introspection hooks for tools
// and tests.
//
//   XEHIL_ASSIGN_OR_RETURN(std::shared_ptr<Device> device,
//                          Device::Create("dg2-16g"));
//   std::unique_ptr<SimBackend> file = device->Open();  // sim/sim_backend.h
//   ... create a restartable LR VM and a BO through file->Ioctl(...)
//   device->FailNextRebinds(file->file_id(), vm_id, 1, -ENOSPC);
//   device->TriggerRebind(file->file_id(), vm_id);
//   device->WaitIdle();  // the VM is now paused and a VM_ERR record posted
//
// Thread-safe. Lock order: Device -> NotificationQueue.
#ifndef XEHIL_SIM_DEVICE_H_
#define XEHIL_SIM_DEVICE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/uapi/xe_uapi.h"
#include "sim/counters.h"
#include "sim/device_profile.h"
#include "sim/device_state.h"
#include "sim/fault_script.h"
#include "sim/memory_model.h"
#include "sim/notification_queue.h"

namespace xehil::sim {

class SimBackend;

// One VM_BIND operation, decoded and field-checked (see ioctl_decode.h).
struct BindOp {
  uint32_t op = DRM_XE_VM_BIND_OP_MAP;
  uint32_t obj = 0;
  uint64_t obj_offset = 0;  // or the userptr address
  uint64_t range = 0;
  uint64_t addr = 0;
  uint32_t flags = 0;
};

struct VmStatus {
  uint32_t flags = 0;
  VmState state = VmState::kHealthy;
  int error = 0;  // the rebind errno that paused or banned it
  bool rebind_pending = false;
};

struct BoStatus {
  uint64_t size = 0;
  uint32_t placement = 0;
  std::optional<uint16_t> resident;  // region instance; none while evicted
};

class Device : public std::enable_shared_from_this<Device> {
  struct PassKey {};

 public:
  // Starts the device and its worker thread; a thread that cannot be created
  // (RLIMIT_NPROC, RLIMIT_AS) is the errno's status, e.g. -EAGAIN.
  static absl::StatusOr<std::shared_ptr<Device>> Start(DeviceProfile profile);
  // A built-in profile by name; NotFound lists the known names.
  static absl::StatusOr<std::shared_ptr<Device>> Create(absl::string_view name);
  // Start() for tests and callers that cannot go on without a device: a
  // worker that cannot start is reported on stderr and aborts. Prefer Start().
  static std::shared_ptr<Device> Create(DeviceProfile profile);

  Device(PassKey, DeviceProfile profile);  // use Start() or Create()
  // Stops and joins the worker; queued rebinds are dropped.
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  // Opens a DRM file on this device. Defined by //sim:sim_backend.
  std::unique_ptr<SimBackend> Open();

  const DeviceProfile& profile() const { return profile_; }
  std::string Description() const { return DescribeProfile(profile_); }

  // ---- Files (SimBackend's lifetime). Ids are never reused. ----
  FileId OpenFile();
  // Posts a removal record to each watch, drops the watches (a queue left
  // without watches gets CloseWriteEnd()), destroys VMs, BOs, exec queues.
  void ReleaseFile(FileId file);

  // ---- Decoded ioctls: 0 or a negative errno. The decoder has already
  // checked pad/reserved/flags fields; these check ids and states. ----
  std::vector<drm_xe_mem_region> MemRegions() const;
  int CreateBo(FileId file, uint64_t size, uint32_t placement, uint32_t flags,
               uint32_t vm_id, uint32_t* handle);
  int CloseBo(FileId file, uint32_t handle);
  int CreateVm(FileId file, uint32_t flags, uint32_t* vm_id);
  int DestroyVm(FileId file, uint32_t vm_id);
  int Bind(FileId file, uint32_t vm_id, uint32_t exec_queue_id,
           const std::vector<BindOp>& ops);
  int CreateExecQueue(FileId file, uint32_t vm_id,
                      const drm_xe_engine_class_instance& engine,
                      uint32_t* exec_queue_id);
  int DestroyExecQueue(FileId file, uint32_t exec_queue_id);
  // Seed semantics: runs the rebind in the caller. 0 when it succeeded or
  // failed again (then a new VM_ERR is posted); -EAGAIN: retry.
  int RestartVm(FileId file, uint32_t vm_id, uint64_t timestamp_ns);
  // Subscribes the pipe behind `fd` (a pipe opened on this device).
  int WatchQueue(FileId file, int fd, uint8_t watch_id);
  // Registers a pipe opened through `file` so that WatchQueue can find it.
  void AdoptQueue(FileId file, std::shared_ptr<NotificationQueue> queue);
  void CountIoctl(const std::string& name, int result);

  // ---- Fault script (deterministic; see fault_script.h). NotFound for an
  // unknown file or VM. ----
  absl::Status FailNextRebinds(FileId file, uint32_t vm_id, uint32_t count,
                               int error);
  absl::Status FailNextRestarts(FileId file, uint32_t vm_id, uint32_t count);
  absl::Status DropNextRecords(FileId file, uint32_t count);
  // The "eviction" that queues the VM's rebind on the worker now.
  // FailedPrecondition if the VM has no running rebind worker (not in
  // preempt-fence mode, paused or banned).
  absl::Status TriggerRebind(FileId file, uint32_t vm_id);

  // ---- Memory. Pressure takes bytes of a region; if used + pressure then
  // exceeds its capacity, BOs of preempt-fence VMs in it are evicted (oldest
  // file and BO first) until it fits, and their VMs' rebinds are queued. ----
  absl::Status InjectPressure(uint16_t instance, uint64_t bytes);
  absl::Status ReleasePressure(uint16_t instance, uint64_t bytes);
  std::vector<RegionUsage> Regions() const;

  // ---- Introspection ----
  absl::StatusOr<VmStatus> GetVm(FileId file, uint32_t vm_id) const;
  absl::StatusOr<BoStatus> GetBo(FileId file, uint32_t handle) const;
  // Every VM of the file by id (for xehil-simd's status and script rules).
  // NotFound for a file that is not open.
  absl::StatusOr<std::map<uint32_t, VmStatus>> ListVms(FileId file) const;
  DeviceCounters counters() const;

  // Blocks until no rebind is queued or running. Not from the worker.
  void WaitIdle();

  // Where VM_ERR records go when the pipes are not the simulator's: with a
  // sink set, a record for file F (info holds only its length) is handed to
  // the sink once instead of to F's watches, which the sink's owner keeps
  // (xehil-simd --vxe_control: the kernel's watch list of F). The fault
  // script's record drops still apply; records_posted counts hand-overs.
  // Called with the device lock held, from the worker or an ioctl caller:
  // the sink must not call back into the device. Set before serving.
  using RecordSink = std::function<void(FileId, absl::Span<const uint8_t>)>;
  void SetRecordSink(RecordSink sink);

  // Called on the worker, without the device lock, after a rebind is taken
  // off the queue and before it runs: lets tests hold the worker "busy".
  void SetRebindHookForTesting(std::function<void(FileId, uint32_t)> hook);

 private:
  struct RebindTicket {
    FileId file;
    uint32_t vm_id;
    uint64_t serial;
  };

  internal::File* FindFileLocked(FileId file)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const internal::File* FindFileLocked(FileId file) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  internal::Vm* FindVmLocked(FileId file, uint32_t vm_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WorkerLoop();

  // device_objects.cc
  void DropMappingLocked(internal::File& file, uint32_t vm_id,
                         const internal::Mapping& mapping)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UnmapRangeLocked(internal::File& file, uint32_t vm_id, internal::Vm& vm,
                        uint64_t addr, uint64_t range)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseObjectIfUnusedLocked(internal::File& file, uint64_t object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int PlaceNewBoLocked(internal::Bo& bo) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // device_rebind.cc
  void QueueRebindLocked(FileId file, uint32_t vm_id, internal::Vm& vm)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunTicketLocked(const RebindTicket& ticket)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int RebindLocked(internal::File& file, uint32_t vm_id, bool retry_again)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FailVmLocked(internal::File& file, uint32_t vm_id, internal::Vm& vm,
                    int error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PostVmErrorLocked(internal::File& file, uint32_t vm_id, int error,
                         uint64_t timestamp_ns)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Evicts BOs of preempt-fence VMs from `instance` until `bytes` more fit.
  void EvictForRoomLocked(uint16_t instance, uint64_t bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictLocked(internal::File& file, internal::Bo& bo)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const DeviceProfile profile_;
  // Taken before any NotificationQueue's lock (its mu_ is private, so the
  // order is this comment's, not an annotation's).
  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;  // rebind queued, or stopping
  absl::CondVar idle_cv_;  // queue drained and worker idle
  MemoryModel memory_ ABSL_GUARDED_BY(mu_);
  FaultScript script_ ABSL_GUARDED_BY(mu_);
  DeviceCounters counters_ ABSL_GUARDED_BY(mu_);
  std::map<FileId, internal::File> files_ ABSL_GUARDED_BY(mu_);
  FileId next_file_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_vm_serial_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::weak_ptr<NotificationQueue>> queues_ ABSL_GUARDED_BY(mu_);
  std::deque<RebindTicket> rebind_queue_ ABSL_GUARDED_BY(mu_);
  bool worker_busy_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::function<void(FileId, uint32_t)> rebind_hook_ ABSL_GUARDED_BY(mu_);
  RecordSink record_sink_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;  // started by Start() once everything above exists
};

}  // namespace xehil::sim

#endif  // XEHIL_SIM_DEVICE_H_
