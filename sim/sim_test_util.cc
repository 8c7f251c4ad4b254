#include "sim/sim_test_util.h"

#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace xehil::sim::testing {

int ExecQueueCreate(KernelBackend& backend, uint32_t vm_id, uint32_t* id,
                    drm_xe_engine_class_instance engine) {
  return raw_ioctl::ExecQueueCreate(backend, vm_id, engine, id);
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
