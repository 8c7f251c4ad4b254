#include "sim/sim_test_util.h"

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace xehil::sim::testing {

int VmCreate(KernelBackend& backend, uint32_t flags, uint32_t* vm_id) {
  drm_xe_vm_create arg{};
  arg.flags = flags;
  int rc = backend.Ioctl(DRM_IOCTL_XE_VM_CREATE, &arg);
  *vm_id = arg.vm_id;
  return rc;
}

int VmDestroy(KernelBackend& backend, uint32_t vm_id) {
  drm_xe_vm_destroy arg{};
  arg.vm_id = vm_id;
  return backend.Ioctl(DRM_IOCTL_XE_VM_DESTROY, &arg);
}

int GemCreate(KernelBackend& backend, uint64_t size, uint32_t placement,
              uint32_t* handle, uint32_t vm_id) {
  drm_xe_gem_create arg{};
  arg.size = size;
  arg.placement = placement;
  arg.vm_id = vm_id;
  arg.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
  int rc = backend.Ioctl(DRM_IOCTL_XE_GEM_CREATE, &arg);
  *handle = arg.handle;
  return rc;
}

int GemClose(KernelBackend& backend, uint32_t handle) {
  drm_gem_close arg{};
  arg.handle = handle;
  return backend.Ioctl(DRM_IOCTL_GEM_CLOSE, &arg);
}

int BindBo(KernelBackend& backend, uint32_t vm_id, uint32_t bo, uint64_t offset,
           uint64_t addr, uint64_t range) {
  drm_xe_vm_bind arg{};
  arg.vm_id = vm_id;
  arg.num_binds = 1;
  arg.bind.obj = bo;
  arg.bind.obj_offset = offset;
  arg.bind.addr = addr;
  arg.bind.range = range;
  arg.bind.op = DRM_XE_VM_BIND_OP_MAP;
  return backend.Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
}

int Unbind(KernelBackend& backend, uint32_t vm_id, uint64_t addr,
           uint64_t range) {
  drm_xe_vm_bind arg{};
  arg.vm_id = vm_id;
  arg.num_binds = 1;
  arg.bind.addr = addr;
  arg.bind.range = range;
  arg.bind.op = DRM_XE_VM_BIND_OP_UNMAP;
  return backend.Ioctl(DRM_IOCTL_XE_VM_BIND, &arg);
}

int ExecQueueCreate(KernelBackend& backend, uint32_t vm_id, uint32_t* id,
                    drm_xe_engine_class_instance engine) {
  drm_xe_exec_queue_create arg{};
  arg.width = 1;
  arg.num_placements = 1;
  arg.vm_id = vm_id;
  arg.instances = reinterpret_cast<uintptr_t>(&engine);
  int rc = backend.Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &arg);
  *id = arg.exec_queue_id;
  return rc;
}

int ExecQueueDestroy(KernelBackend& backend, uint32_t id) {
  drm_xe_exec_queue_destroy arg{};
  arg.exec_queue_id = id;
  return backend.Ioctl(DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &arg);
}

int Restart(KernelBackend& backend, uint32_t vm_id, uint64_t timestamp_ns) {
  drm_xe_vm_restart arg{};
  arg.vm_id = vm_id;
  arg.timestamp_ns = timestamp_ns;
  return backend.Ioctl(DRM_IOCTL_XE_VM_RESTART, &arg);
}

int Watch(KernelBackend& backend, int fd, uint32_t watch_id) {
  drm_xe_watch_queue arg{};
  arg.fd = static_cast<uint32_t>(fd);
  arg.watch_id = watch_id;
  return backend.Ioctl(DRM_IOCTL_XE_WATCH_QUEUE, &arg);
}

int VmWithBo(KernelBackend& backend, uint32_t flags, uint64_t size,
             uint32_t placement, uint32_t* vm_id, uint32_t* bo) {
  if (int rc = VmCreate(backend, flags, vm_id); rc != 0) return rc;
  if (int rc = GemCreate(backend, size, placement, bo); rc != 0) return rc;
  return BindBo(backend, *vm_id, *bo, 0, 1u << 20, size);
}

std::vector<uint8_t> ReadAvailable(int fd) {
  int queued = 0;
  if (ioctl(fd, FIONREAD, &queued) != 0 || queued <= 0) return {};
  std::vector<uint8_t> bytes(static_cast<size_t>(queued));
  ssize_t n = read(fd, bytes.data(), bytes.size());
  bytes.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return bytes;
}

VmErrFields DecodeVmErr(const uint8_t* bytes) {
  drm_xe_watch_notification_vm_err record;
  std::memcpy(&record, bytes, sizeof(record));
  return {record.base.type, record.base.subtype, record.base.info,
          record.vm_id,     record.error_code,   record.timestamp_ns};
}

std::vector<uint8_t> EncodeVmErr(uint32_t vm_id, int32_t error) {
  drm_xe_watch_notification_vm_err record{};
  record.base.type = WATCH_TYPE_DRM_XE_NOTIFY;
  record.base.subtype = DRM_XE_WATCH_EVENT_VM_ERR;
  record.base.info = sizeof(record);
  record.vm_id = vm_id;
  record.error_code = error;
  std::vector<uint8_t> bytes(sizeof(record));
  std::memcpy(bytes.data(), &record, sizeof(record));
  return bytes;
}

DeviceProfile TinyProfile() {
  return {"tiny",
          {{DRM_XE_MEM_REGION_CLASS_SYSMEM, 0, 64 * kMiB, 4096},
           {DRM_XE_MEM_REGION_CLASS_VRAM, 1, 16 * kMiB, 4096}},
          {{DRM_XE_ENGINE_CLASS_RENDER, 0, 0}},
          /*supports_fault_mode=*/true};
}

SimFileTest::SimFileTest(DeviceProfile profile)
    : device_(Device::Create(std::move(profile))), file_(device_->Open()) {}

void SimFileTest::SetUp() {
  absl::StatusOr<NotificationPipe> pipe = file_->OpenNotificationPipe({});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pipe_ = *std::move(pipe);
  ASSERT_EQ(Watch(*file_, pipe_.read_end.get(), 1), 0);
}

VmState SimFileTest::StateOf(uint32_t vm) {
  absl::StatusOr<VmStatus> status = device_->GetVm(file_->file_id(), vm);
  EXPECT_TRUE(status.ok()) << status.status();
  return status.ok() ? status->state : VmState::kBanned;
}

int SimFileTest::NextVmError(uint32_t vm) {
  std::vector<uint8_t> bytes = ReadAvailable(pipe_.read_end.get());
  if (bytes.size() != sizeof(drm_xe_watch_notification_vm_err)) {
    ADD_FAILURE() << "expected one 24-byte record, the pipe held "
                  << bytes.size() << " bytes";
    return 0;
  }
  VmErrFields record = DecodeVmErr(bytes.data());
  EXPECT_EQ(record.vm_id, vm);
  return record.error;
}

void SimFileTest::FailRebind(uint32_t vm, int error) {
  ASSERT_TRUE(device_->FailNextRebinds(file_->file_id(), vm, 1, error).ok());
  ASSERT_TRUE(device_->TriggerRebind(file_->file_id(), vm).ok());
  device_->WaitIdle();
}

void WorkerGate::Enter() {
  absl::MutexLock lock(&mu_);
  entered_ = true;
  mu_.Await(absl::Condition(&open_));
}

void WorkerGate::WaitEntered() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&entered_));
}

void WorkerGate::Open() {
  absl::MutexLock lock(&mu_);
  open_ = true;
}

}  // namespace xehil::sim::testing
