// XeDevice's protocol details against a scripted backend: what exactly goes
// into each ioctl and how odd kernel answers are handled. Behaviour against a
// kernel model is in xe_device_test.cc (sim::SimBackend).
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <vector>

#include "core/base/errno_status.h"
#include "core/device/xe_device.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace xehil {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers every ioctl with `answer` and records the requests it saw.
class ScriptedBackend : public KernelBackend {
 public:
  std::function<int(unsigned long request, void* arg)> answer =
      [](unsigned long, void*) { return 0; };
  std::vector<unsigned long> requests;

  int Ioctl(unsigned long request, void* arg) override {
    requests.push_back(request);
    return answer(request, arg);
  }
  absl::StatusOr<NotificationPipe> OpenNotificationPipe(
      const NotificationPipeOptions&) override {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
    return NotificationPipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  }
  std::string Name() const override { return "scripted"; }
  std::string Description() const override { return "scripted"; }
};

TEST(XeDeviceProtocol, DeviceQueryAsksForTheSizeBeforeTheData) {
  ScriptedBackend backend;
  std::vector<drm_xe_device_query> seen;
  backend.answer = [&seen](unsigned long, void* arg) {
    auto* q = static_cast<drm_xe_device_query*>(arg);
    seen.push_back(*q);
    if (q->size == 0) {
      q->size = sizeof(drm_xe_query_engines) + 2 * sizeof(drm_xe_engine);
      return 0;
    }
    auto* reply = reinterpret_cast<drm_xe_query_engines*>(q->data);
    reply->num_engines = 2;
    reply->engines[0].instance = {DRM_XE_ENGINE_CLASS_RENDER, 0, 0, 0};
    reply->engines[1].instance = {DRM_XE_ENGINE_CLASS_COPY, 1, 1, 0};
    return 0;
  };
  XeDevice dev(backend);
  absl::StatusOr<std::vector<EngineInfo>> engines = dev.QueryEngines();
  ASSERT_TRUE(engines.ok()) << engines.status();
  ASSERT_EQ(engines->size(), 2u);
  EXPECT_EQ((*engines)[1].engine_class, DRM_XE_ENGINE_CLASS_COPY);
  EXPECT_EQ((*engines)[1].engine_instance, 1);
  EXPECT_EQ((*engines)[1].gt_id, 1);

  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].query, uint32_t{DRM_XE_DEVICE_QUERY_ENGINES});
  EXPECT_EQ(seen[0].size, 0u);
  EXPECT_EQ(seen[0].data, 0u);
  EXPECT_EQ(seen[1].size, 8u + 2 * 32u);
  EXPECT_NE(seen[1].data, 0u);
  EXPECT_THAT(backend.requests, ElementsAre(DRM_IOCTL_XE_DEVICE_QUERY,
                                            DRM_IOCTL_XE_DEVICE_QUERY));
}

TEST(XeDeviceProtocol, DeviceQueryNeverReadsPastTheReply) {
  ScriptedBackend backend;
  backend.answer = [](unsigned long, void* arg) {
    auto* q = static_cast<drm_xe_device_query*>(arg);
    if (q->size == 0) {
      q->size = sizeof(drm_xe_query_mem_regions) + sizeof(drm_xe_mem_region);
      return 0;
    }
    // Claims three regions in room for one.
    reinterpret_cast<drm_xe_query_mem_regions*>(q->data)->num_mem_regions = 3;
    return 0;
  };
  XeDevice dev(backend);
  absl::StatusOr<std::vector<MemRegion>> regions = dev.QueryMemRegions();
  EXPECT_EQ(regions.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(regions.status().message(),
              HasSubstr("MEM_REGIONS: kernel reported 3 entries in 96 bytes"));
}

TEST(XeDeviceProtocol, DeviceQuerySizeSmallerThanTheHeaderIsDataLoss) {
  ScriptedBackend backend;
  backend.answer = [](unsigned long, void* arg) {
    static_cast<drm_xe_device_query*>(arg)->size = 4;
    return 0;
  };
  XeDevice dev(backend);
  EXPECT_EQ(dev.QueryEngines().status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(backend.requests.size(), 1u);
}

TEST(XeDeviceProtocol, DeviceQueryErrorNamesTheQuery) {
  ScriptedBackend backend;
  backend.answer = [](unsigned long, void*) { return -EINVAL; };
  XeDevice dev(backend);
  absl::Status status = dev.QueryMemRegions().status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusErrno(status), -EINVAL);
  EXPECT_THAT(status.message(),
              HasSubstr("DEVICE_QUERY MEM_REGIONS size: -EINVAL"));
}

TEST(XeDeviceProtocol, ErrorsNameTheIoctlAndItsIds) {
  ScriptedBackend backend;
  backend.answer = [](unsigned long, void*) { return -ENOENT; };
  XeDevice dev(backend);
  EXPECT_THAT(dev.DestroyVm(3).message(),
              HasSubstr("VM_DESTROY vm 3: -ENOENT ("));
  EXPECT_THAT(dev.CloseBo(7).message(), HasSubstr("GEM_CLOSE bo 7: -ENOENT"));
  EXPECT_THAT(dev.DestroyExecQueue(9).message(),
              HasSubstr("EXEC_QUEUE_DESTROY queue 9: -ENOENT"));
  EXPECT_THAT(dev.Unbind(3, 0x10000, 0x1000).message(),
              HasSubstr("VM_BIND vm 3 unmap at 0x10000 range 0x1000: -ENOENT"));
  EXPECT_THAT(dev.RestartVm(4).status().message(),
              HasSubstr("VM_RESTART vm 4: -ENOENT"));
}

TEST(XeDeviceProtocol, BindFillsOneMapOperation) {
  ScriptedBackend backend;
  drm_xe_vm_bind seen{};
  backend.answer = [&seen](unsigned long, void* arg) {
    seen = *static_cast<drm_xe_vm_bind*>(arg);
    return 0;
  };
  XeDevice dev(backend);
  ASSERT_TRUE(dev.BindBo(2, 5, 0x1000, 0x200000, 0x3000).ok());
  EXPECT_EQ(backend.requests, std::vector<unsigned long>{DRM_IOCTL_XE_VM_BIND});
  EXPECT_EQ(seen.vm_id, 2u);
  EXPECT_EQ(seen.num_binds, 1u);
  EXPECT_EQ(seen.num_syncs, 0u);
  EXPECT_EQ(seen.bind.op, uint32_t{DRM_XE_VM_BIND_OP_MAP});
  EXPECT_EQ(seen.bind.obj, 5u);
  EXPECT_EQ(seen.bind.obj_offset, 0x1000u);
  EXPECT_EQ(seen.bind.addr, 0x200000u);
  EXPECT_EQ(seen.bind.range, 0x3000u);
}

TEST(XeDeviceProtocol, RestartWithoutTriesIsRejectedBeforeAnyIoctl) {
  ScriptedBackend backend;
  XeDevice dev(backend);
  absl::StatusOr<RestartOutcome> outcome = dev.RestartVm(1, 0, /*max_tries=*/0);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend.requests.empty());
}

TEST(XeDeviceProtocol, RestartPassesTheTimestampOnEveryTry) {
  ScriptedBackend backend;
  std::vector<drm_xe_vm_restart> seen;
  backend.answer = [&seen](unsigned long, void* arg) {
    seen.push_back(*static_cast<drm_xe_vm_restart*>(arg));
    return seen.size() < 3 ? -EAGAIN : 0;
  };
  XeDevice dev(backend);
  absl::StatusOr<RestartOutcome> outcome = dev.RestartVm(6, 12345, 5);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(outcome->tries, 3);
  ASSERT_EQ(seen.size(), 3u);
  for (const drm_xe_vm_restart& r : seen) {
    EXPECT_EQ(r.vm_id, 6u);
    EXPECT_EQ(r.timestamp_ns, 12345u);
    EXPECT_EQ(r.pad, 0u);
    EXPECT_EQ(r.reserved, 0u);
  }
}

TEST(XeDeviceProtocol, RestartStillBusyNamesTheTries) {
  ScriptedBackend backend;
  backend.answer = [](unsigned long, void*) { return -EAGAIN; };
  XeDevice dev(backend);
  absl::Status status = dev.RestartVm(6, 0, 4).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusErrno(status), -EAGAIN);
  EXPECT_THAT(status.message(),
              HasSubstr("VM_RESTART vm 6 still busy after 4 tries: -EAGAIN"));
  EXPECT_EQ(backend.requests.size(), 4u);
}

TEST(XeDeviceProtocol, WatchQueueSubscribesTheReadEnd) {
  ScriptedBackend backend;
  drm_xe_watch_queue seen{};
  backend.answer = [&seen](unsigned long, void* arg) {
    seen = *static_cast<drm_xe_watch_queue*>(arg);
    return 0;
  };
  XeDevice dev(backend);
  absl::StatusOr<NotificationPipe> pipe = dev.WatchQueue(7, {});
  ASSERT_TRUE(pipe.ok()) << pipe.status();
  EXPECT_EQ(backend.requests,
            std::vector<unsigned long>{DRM_IOCTL_XE_WATCH_QUEUE});
  EXPECT_EQ(seen.fd, static_cast<uint32_t>(pipe->read_end.get()));
  EXPECT_EQ(seen.watch_id, 7u);
  EXPECT_EQ(seen.flags, 0u);
  EXPECT_EQ(seen.pad, 0u);
}

TEST(XeDeviceProtocol, FailedSubscriptionClosesThePipe) {
  ScriptedBackend backend;
  int subscribed_fd = -1;
  backend.answer = [&subscribed_fd](unsigned long, void* arg) {
    subscribed_fd = static_cast<int>(static_cast<drm_xe_watch_queue*>(arg)->fd);
    return -EBUSY;
  };
  XeDevice dev(backend);
  absl::Status status = dev.WatchQueue(1, {}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("WATCH_QUEUE watch 1 fd "));
  ASSERT_GE(subscribed_fd, 0);
  EXPECT_EQ(::fcntl(subscribed_fd, F_GETFD), -1);  // closed, not leaked
}

}  // namespace
}  // namespace xehil
