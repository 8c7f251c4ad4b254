// DrmBackend — the real-device backend — and the core code above it
// (XeDevice, Listener) against a simulated GPU: this gtest binary is run
// under libxehil_preload.so by drm_backend_preload_test, with a xehil-simd
// whose script (enomem_on_watch.textproto) makes a VM_ERR record follow each
// watch subscription. Nothing here knows it is not on hardware.
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"
#include "core/device/xe_device.h"
#include "core/watch/events.h"
#include "core/watch/listener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr char kNode[] = "/dev/dri/renderD128";

std::unique_ptr<DrmBackend> OpenNode() {
  absl::StatusOr<std::unique_ptr<DrmBackend>> backend = DrmBackend::Open(kNode);
  EXPECT_TRUE(backend.ok()) << backend.status();
  return backend.ok() ? *std::move(backend) : nullptr;
}

// Events from a Listener, for the test thread to wait on.
class EventLog {
 public:
  Listener::Callback Callback() {
    return [this](const WatchEvent& event) {
      absl::MutexLock lock(&mu_);
      events_.push_back(event);
    };
  }
  // The first event of type T, waiting up to 20 s for it.
  template <typename T>
  std::optional<T> Wait() {
    absl::MutexLock lock(&mu_);
    auto seen = [this] {
      mu_.AssertReaderHeld();
      return FirstLocked<T>().has_value();
    };
    mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(20));
    return FirstLocked<T>();
  }

 private:
  template <typename T>
  std::optional<T> FirstLocked() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    for (const WatchEvent& event : events_) {
      if (std::holds_alternative<T>(event)) return std::get<T>(event);
    }
    return std::nullopt;
  }

  mutable absl::Mutex mu_;
  std::vector<WatchEvent> events_ ABSL_GUARDED_BY(mu_);
};

TEST(DrmBackendUnderPreload, OpensTheSimulatedRenderNodeAsXe) {
  std::unique_ptr<DrmBackend> backend = OpenNode();
  ASSERT_NE(backend, nullptr);
  EXPECT_EQ(backend->Name(), "xe");
  EXPECT_EQ(backend->path(), kNode);
  // The date differs by kernel: the simulator says xe's 20201103, the vxe
  // kernel's DRM core "0" (newer DRM cores no longer report driver dates).
  EXPECT_THAT(backend->Description(),
              HasSubstr("/dev/dri/renderD128: xe 1.1.0 ("));
}

TEST(DrmBackendUnderPreload, XeDeviceQueriesAndManagesObjects) {
  std::unique_ptr<DrmBackend> backend = OpenNode();
  ASSERT_NE(backend, nullptr);
  XeDevice dev(*backend);
  absl::StatusOr<std::vector<MemRegion>> regions = dev.QueryMemRegions();
  ASSERT_TRUE(regions.ok()) << regions.status();
  ASSERT_THAT(*regions, ::testing::Not(::testing::IsEmpty()));
  EXPECT_EQ((*regions)[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  absl::StatusOr<std::vector<EngineInfo>> engines = dev.QueryEngines();
  ASSERT_TRUE(engines.ok()) << engines.status();
  ASSERT_THAT(*engines, ::testing::Not(::testing::IsEmpty()));

  absl::StatusOr<uint32_t> vm = dev.CreateVm(kRestartableLr);
  ASSERT_TRUE(vm.ok()) << vm.status();
  absl::StatusOr<uint32_t> queue = dev.CreateExecQueue(*vm, (*engines)[0]);
  ASSERT_TRUE(queue.ok()) << queue.status();
  absl::StatusOr<uint32_t> bo =
      dev.CreateBo(0x10000, 1u << (*regions)[0].instance);
  ASSERT_TRUE(bo.ok()) << bo.status();
  ASSERT_TRUE(dev.BindBo(*vm, *bo, 0, 0x100000, 0x10000).ok());
  ASSERT_TRUE(dev.Unbind(*vm, 0x100000, 0x8000).ok());
  EXPECT_THAT(dev.BindingsOf(*vm), SizeIs(1));
  absl::StatusOr<RestartOutcome> restart = dev.RestartVm(*vm);
  EXPECT_EQ(StatusErrno(restart.status()), -EALREADY) << restart.status();
  EXPECT_TRUE(dev.DestroyExecQueue(*queue).ok());
  EXPECT_TRUE(dev.CloseBo(*bo).ok());
  EXPECT_TRUE(dev.DestroyVm(*vm).ok());
  absl::Status again = dev.DestroyVm(*vm);
  EXPECT_EQ(StatusErrno(again), -ENOENT) << again;
}

TEST(DrmBackendUnderPreload, FilesAreSeparateOnOneDevice) {
  std::unique_ptr<DrmBackend> a = OpenNode(), b = OpenNode();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  XeDevice dev_a(*a), dev_b(*b);
  absl::StatusOr<uint32_t> vm = dev_a.CreateVm(DRM_XE_VM_CREATE_FLAG_LR_MODE);
  ASSERT_TRUE(vm.ok()) << vm.status();
  // VM ids belong to the file that made them.
  EXPECT_EQ(StatusErrno(dev_b.DestroyVm(*vm)), -ENOENT);
  EXPECT_TRUE(dev_a.DestroyVm(*vm).ok());
}

// The recovery loop end to end: VM_ERR reaches the listener thread, the
// test thread restarts the VM, and the file's release ends the stream.
TEST(DrmBackendUnderPreload, VmErrorReachesTheListenerAndRestartRecovers) {
  std::unique_ptr<DrmBackend> backend = OpenNode();
  ASSERT_NE(backend, nullptr);
  auto dev = std::make_unique<XeDevice>(*backend);
  absl::StatusOr<uint32_t> vm = dev->CreateVm(kRestartableLr);
  ASSERT_TRUE(vm.ok()) << vm.status();
  NotificationPipeOptions options;
  options.ring_notes = 32;
  watch_notification_type_filter entry{};
  entry.type = WATCH_TYPE_DRM_XE_NOTIFY;
  entry.subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  options.filter.emplace(1, entry);
  absl::StatusOr<NotificationPipe> pipe = dev->WatchQueue(3, options);
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EventLog log;
  absl::StatusOr<std::unique_ptr<Listener>> listener =
      Listener::Start(*std::move(pipe), log.Callback());
  ASSERT_TRUE(listener.ok()) << listener.status();

  std::optional<VmError> error = log.Wait<VmError>();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->vm_id, *vm);
  EXPECT_EQ(error->error, -ENOMEM);
  EXPECT_EQ(error->watch_id, 3);
  absl::StatusOr<RestartOutcome> restart =
      dev->RestartVm(error->vm_id, error->timestamp_ns);
  ASSERT_TRUE(restart.ok()) << restart.status();
  EXPECT_EQ(restart->tries, 1);
  EXPECT_EQ(StatusErrno(dev->RestartVm(*vm).status()), -EALREADY);

  dev.reset();
  backend.reset();  // the DRM file is released: a removal record follows
  std::optional<Removed> removed = log.Wait<Removed>();
  ASSERT_TRUE(removed.has_value());
  EXPECT_EQ(removed->watch_id, 3);
  ASSERT_TRUE((*listener)->WaitForEnd(absl::Seconds(20)));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kRemoved);
}

// The seed's mistake, caught before hardware: a listener whose pipe has no
// write end left sees EOF at once, as on a real kernel.
TEST(DrmBackendUnderPreload, ListenerWithoutAWriteEndEndsAtOnceWithEof) {
  std::unique_ptr<DrmBackend> backend = OpenNode();
  ASSERT_NE(backend, nullptr);
  XeDevice dev(*backend);
  absl::StatusOr<NotificationPipe> pipe = dev.WatchQueue(1, {});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  pipe->write_end.reset();
  EventLog log;
  absl::StatusOr<std::unique_ptr<Listener>> listener =
      Listener::Start(*std::move(pipe), log.Callback());
  ASSERT_TRUE(listener.ok()) << listener.status();
  ASSERT_TRUE((*listener)->WaitForEnd(absl::Seconds(20)));
  EXPECT_EQ((*listener)->end_reason(), Listener::EndReason::kEof);
}

TEST(OpenKernelNotificationPipeUnderPreload, KernelRulesComeFromTheDaemon) {
  EXPECT_TRUE(ProbeWatchQueueSupport().ok());
  NotificationPipeOptions options;
  watch_notification_type_filter entry{};
  entry.type = WATCH_TYPE_DRM_XE_NOTIFY;
  entry.info_filter = 1u << 20;  // outside info_mask: EINVAL
  options.filter.emplace(1, entry);
  absl::StatusOr<NotificationPipe> pipe = OpenKernelNotificationPipe(options);
  EXPECT_EQ(StatusErrno(pipe.status()), -EINVAL) << pipe.status();
  EXPECT_THAT(pipe.status().message(),
              HasSubstr("IOC_WATCH_QUEUE_SET_FILTER 1 entries"));
}

}  // namespace
}  // namespace xehil
