#include "core/backend/conformance/conformance.h"

#include <fcntl.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "core/base/monotonic_clock.h"

namespace xehil::conformance {

std::string TargetName(
    const ::testing::TestParamInfo<ConformanceTarget>& info) {
  return info.param.name;
}

void PrintTo(const ConformanceTarget& target, std::ostream* os) {
  *os << target.name;
}

std::vector<uint8_t> Query(KernelBackend& backend, uint32_t query, int* rc) {
  drm_xe_device_query arg{};
  arg.query = query;
  *rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg);
  if (*rc != 0) return {};
  std::vector<uint8_t> data(arg.size);
  arg.data = reinterpret_cast<uintptr_t>(data.data());
  *rc = backend.Ioctl(DRM_IOCTL_XE_DEVICE_QUERY, &arg);
  if (*rc != 0) return {};
  return data;
}

bool Record::is_loss() const {
  return type == WATCH_TYPE_META && subtype == WATCH_META_LOSS_NOTIFICATION &&
         info == 8;
}

bool Record::is_removal() const {
  return type == WATCH_TYPE_META && subtype == WATCH_META_REMOVAL_NOTIFICATION;
}

bool Record::is_vm_err() const {
  return type == WATCH_TYPE_DRM_XE_NOTIFY &&
         subtype == DRM_XE_WATCH_EVENT_VM_ERR &&
         bytes.size() == sizeof(drm_xe_watch_notification_vm_err);
}

uint32_t Record::vm_id() const {
  drm_xe_watch_notification_vm_err r{};
  std::memcpy(&r, bytes.data(), std::min(bytes.size(), sizeof(r)));
  return r.vm_id;
}

int32_t Record::error() const {
  drm_xe_watch_notification_vm_err r{};
  std::memcpy(&r, bytes.data(), std::min(bytes.size(), sizeof(r)));
  return r.error_code;
}

uint64_t Record::timestamp() const {
  drm_xe_watch_notification_vm_err r{};
  std::memcpy(&r, bytes.data(), std::min(bytes.size(), sizeof(r)));
  return r.timestamp_ns;
}

std::vector<Record> ParseRecords(const std::vector<uint8_t>& stream) {
  std::vector<Record> records;
  size_t at = 0;
  while (at + sizeof(watch_notification) <= stream.size()) {
    watch_notification head{};
    std::memcpy(&head, &stream[at], sizeof(head));
    Record record;
    record.type = head.type;
    record.subtype = head.subtype;
    record.info = head.info;
    const size_t length = record.length();
    if (length < sizeof(head) || at + length > stream.size()) break;
    record.bytes.assign(stream.begin() + at, stream.begin() + at + length);
    records.push_back(std::move(record));
    at += length;
  }
  EXPECT_EQ(at, stream.size()) << "the stream does not end on a record";
  return records;
}

void BackendConformance::SetUp() {
  absl::StatusOr<std::unique_ptr<ConformanceEnv>> env = GetParam().make();
  if (absl::IsUnavailable(env.status())) {
    GTEST_SKIP() << GetParam().name
                 << " is not available here: " << env.status().message();
  }
  ASSERT_TRUE(env.ok()) << env.status();
  env_ = *std::move(env);
  absl::StatusOr<OpenedFile> file = env_->OpenFile();
  ASSERT_TRUE(file.ok()) << file.status();
  file_ = *std::move(file);
}

void BackendConformance::TearDown() {
  // Files before the environment that serves them.
  file_.backend.reset();
  env_.reset();
}

OpenedFile BackendConformance::OpenAnother() {
  absl::StatusOr<OpenedFile> file = env_->OpenFile();
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : OpenedFile{};
}

uint32_t BackendConformance::SysmemPlacement() {
  int rc = 0;
  std::vector<uint8_t> data =
      Query(file(), DRM_XE_DEVICE_QUERY_MEM_REGIONS, &rc);
  EXPECT_EQ(rc, 0);
  if (data.size() < sizeof(drm_xe_query_mem_regions)) return 1;
  const auto* regions =
      reinterpret_cast<const drm_xe_query_mem_regions*>(data.data());
  for (uint32_t i = 0; i < regions->num_mem_regions; ++i) {
    if (regions->mem_regions[i].mem_class == DRM_XE_MEM_REGION_CLASS_SYSMEM) {
      return 1u << regions->mem_regions[i].instance;
    }
  }
  ADD_FAILURE() << "no system memory region";
  return 1;
}

drm_xe_engine_class_instance BackendConformance::AnEngine() {
  int rc = 0;
  std::vector<uint8_t> data = Query(file(), DRM_XE_DEVICE_QUERY_ENGINES, &rc);
  EXPECT_EQ(rc, 0);
  if (data.size() >= sizeof(drm_xe_query_engines)) {
    const auto* engines =
        reinterpret_cast<const drm_xe_query_engines*>(data.data());
    for (uint32_t i = 0; i < engines->num_engines; ++i) {
      if (engines->engines[i].instance.engine_class !=
          DRM_XE_ENGINE_CLASS_VM_BIND) {
        return engines->engines[i].instance;
      }
    }
  }
  ADD_FAILURE() << "no engine to run on";
  return {};
}

NotificationPipe BackendConformance::OpenPipe(KernelBackend& backend,
                                              uint32_t notes) {
  NotificationPipeOptions options;
  options.ring_notes = notes;
  absl::StatusOr<NotificationPipe> pipe = backend.OpenNotificationPipe(options);
  EXPECT_TRUE(pipe.ok()) << pipe.status();
  return pipe.ok() ? *std::move(pipe) : NotificationPipe{};
}

uint32_t BackendConformance::VmWithBo(KernelBackend& backend, uint32_t flags) {
  uint32_t vm = 0, bo = 0;
  EXPECT_EQ(VmCreate(backend, flags, &vm), 0);
  EXPECT_EQ(GemCreate(backend, 64 * kKiB, SysmemPlacement(), &bo), 0);
  EXPECT_EQ(BindBo(backend, vm, bo, 0, 1 * kMiB, 64 * kKiB), 0);
  return vm;
}

void BackendConformance::FailRebind(const OpenedFile& owner, uint32_t vm_id,
                                    int error) {
  FaultInjector& faults = *env_->Faults();
  ASSERT_TRUE(faults.FailNextRebinds(owner.client_id, vm_id, 1, error).ok());
  absl::Status triggered = faults.TriggerRebind(owner.client_id, vm_id);
  ASSERT_TRUE(triggered.ok()) << triggered;
  absl::Status idle = faults.WaitIdle();
  ASSERT_TRUE(idle.ok()) << idle;
}

std::vector<uint8_t> BackendConformance::ReadOnce(const NotificationPipe& pipe,
                                                  int* rc, size_t size) {
  pollfd pfd{pipe.read_end.get(), POLLIN, 0};
  const int ready = ::poll(&pfd, 1, 10000);
  EXPECT_EQ(ready, 1) << "nothing to read within 10 s";
  std::vector<uint8_t> bytes(size);
  const ssize_t n = ReadNotificationPipe(pipe, bytes.data(), bytes.size());
  *rc = n < 0 ? static_cast<int>(n) : 0;
  bytes.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return bytes;
}

std::vector<uint8_t> BackendConformance::ReadQueued(
    const NotificationPipe& pipe) {
  const int fd = pipe.read_end.get();
  EXPECT_EQ(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
  std::vector<uint8_t> out;
  std::vector<uint8_t> buffer(64 * 1024);
  for (;;) {
    const ssize_t n = ReadNotificationPipe(pipe, buffer.data(), buffer.size());
    if (n <= 0) {
      EXPECT_TRUE(n == 0 || n == -EAGAIN) << "read: " << n;
      return out;
    }
    out.insert(out.end(), buffer.begin(), buffer.begin() + n);
  }
}

short BackendConformance::PollNow(const NotificationPipe& pipe) {
  pollfd pfd{pipe.read_end.get(), POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1 ? pfd.revents : 0;
}

}  // namespace xehil::conformance
