// VxeServer against a fake kernel (vxe_server_fixture.h).
#include "sim/simd/vxe_server.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/base/unique_fd.h"
#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"
#include "sim/sim_test_util.h"
#include "sim/simd/vxe_server_fixture.h"
#include "vxe/driver/vxe_ctl.h"

namespace xehil::simd {
namespace {

using ::xehil::sim::testing::kRestartable;
using ::xehil::simd::testing::As;
using ::xehil::simd::testing::Bytes;
using ::xehil::simd::testing::VxeServerTest;

TEST_F(VxeServerTest, OpenCreatesAFileNamedAfterTheCallersArgv0) {
  Start();
  EXPECT_EQ(Call(VXE_CTL_EVENT_OPEN, 7).result, 0);
  sim::DeviceStatus status = server_->Status();
  ASSERT_EQ(status.files_size(), 1);
  EXPECT_EQ(status.files(0).pid(), static_cast<uint32_t>(getpid()));
  EXPECT_EQ(status.files(0).program(), "vxe_server_test");
}

TEST_F(VxeServerTest, IoctlsAreDecodedAsForSocketClients) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 7).result, 0);
  EXPECT_EQ(CreateVm(7, kRestartable), 1u);
  EXPECT_EQ(CreateVm(7, kRestartable), 2u);
  drm_xe_vm_destroy destroy{};
  destroy.vm_id = 1;
  destroy.pad = 1;
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_IOCTL, 7, DRM_IOCTL_XE_VM_DESTROY, Bytes(destroy))
          .result,
      -EINVAL);
  destroy.pad = 0;
  destroy.vm_id = 9;
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_IOCTL, 7, DRM_IOCTL_XE_VM_DESTROY, Bytes(destroy))
          .result,
      -ENOENT);
  EXPECT_EQ(server_->device()->counters().Ioctls("VM_CREATE", 0), 2u);
  EXPECT_EQ(server_->device()->counters().Ioctls("VM_DESTROY", -ENOENT), 1u);
}

TEST_F(VxeServerTest, DeviceQueryWritesTheCallersMemory) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 3).result, 0);
  drm_xe_device_query query{};
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  vxe_ctl_reply reply =
      Call(VXE_CTL_EVENT_IOCTL, 3, DRM_IOCTL_XE_DEVICE_QUERY, Bytes(query));
  ASSERT_EQ(reply.result, 0);
  query = As<drm_xe_device_query>(reply);
  ASSERT_GT(query.size, sizeof(drm_xe_query_mem_regions));
  std::vector<uint8_t> data(query.size, 0xee);
  query.data = reinterpret_cast<uintptr_t>(data.data());
  reply = Call(VXE_CTL_EVENT_IOCTL, 3, DRM_IOCTL_XE_DEVICE_QUERY, Bytes(query));
  ASSERT_EQ(reply.result, 0);
  EXPECT_EQ(As<drm_xe_device_query>(reply).data, query.data)
      << "the caller's pointer comes back unchanged";
  drm_xe_query_mem_regions head;
  std::memcpy(&head, data.data(), sizeof(head));
  EXPECT_EQ(head.num_mem_regions, server_->device()->profile().regions.size());

  query.data = 0x10;  // not mapped in the caller
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_IOCTL, 3, DRM_IOCTL_XE_DEVICE_QUERY, Bytes(query))
          .result,
      -EFAULT);
}

TEST_F(VxeServerTest, ExecQueueCreateReadsTheCallersEngineInstances) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 3).result, 0);
  const uint32_t vm = CreateVm(3, kRestartable);
  ASSERT_FALSE(server_->device()->profile().engines.empty());
  const sim::EngineSpec& spec = server_->device()->profile().engines[0];
  drm_xe_engine_class_instance engine{};
  engine.engine_class = spec.engine_class;
  engine.engine_instance = spec.engine_instance;
  engine.gt_id = spec.gt_id;
  drm_xe_exec_queue_create create{};
  create.width = 1;
  create.num_placements = 1;
  create.vm_id = vm;
  create.instances = reinterpret_cast<uintptr_t>(&engine);
  vxe_ctl_reply reply = Call(VXE_CTL_EVENT_IOCTL, 3,
                             DRM_IOCTL_XE_EXEC_QUEUE_CREATE, Bytes(create));
  EXPECT_EQ(reply.result, 0);
  EXPECT_EQ(As<drm_xe_exec_queue_create>(reply).exec_queue_id, 1u);
  create.instances = 0x10;
  EXPECT_EQ(Call(VXE_CTL_EVENT_IOCTL, 3, DRM_IOCTL_XE_EXEC_QUEUE_CREATE,
                 Bytes(create))
                .result,
            -EFAULT);
}

TEST_F(VxeServerTest, WatchRuleFailsTheRebindAndPostsVmErrForTheKernelFile) {
  Start(R"(rule { when { watch_subscribed { nth: 1 } }
                  action { fail_rebinds { count: 1 error: ERRNO_ENOMEM } }
                  action { trigger_rebind {} } })");
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 42).result, 0);
  const uint32_t vm = CreateVm(42, kRestartable);
  drm_xe_watch_queue watch{};
  watch.fd = 5;
  watch.watch_id = 3;
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_WATCHED, 42, DRM_IOCTL_XE_WATCH_QUEUE, Bytes(watch))
          .result,
      0);
  vxe_ctl_post post = NextPost();
  EXPECT_EQ(post.file_id, 42u);
  drm_xe_watch_notification_vm_err record{};
  ASSERT_EQ(post.size, sizeof(record));
  std::memcpy(&record, post.record, sizeof(record));
  EXPECT_EQ(record.base.type, uint32_t{WATCH_TYPE_DRM_XE_NOTIFY});
  EXPECT_EQ(record.base.subtype, uint32_t{DRM_XE_WATCH_EVENT_VM_ERR});
  EXPECT_EQ(record.base.info, sizeof(record)) << "the kernel adds watch ids";
  EXPECT_EQ(record.vm_id, vm);
  EXPECT_EQ(record.error_code, -ENOMEM);

  drm_xe_vm_restart restart{};
  restart.vm_id = vm;
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_IOCTL, 42, DRM_IOCTL_XE_VM_RESTART, Bytes(restart))
          .result,
      0);
  EXPECT_EQ(
      Call(VXE_CTL_EVENT_IOCTL, 42, DRM_IOCTL_XE_VM_RESTART, Bytes(restart))
          .result,
      -EALREADY);
  sim::DeviceStatus status = server_->Status();
  ASSERT_EQ(status.files_size(), 1);
  EXPECT_EQ(status.files(0).watches(), 1u);
}

TEST_F(VxeServerTest, ReleaseDestroysTheFileAndLaterIoctlsGetEnodev) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 9).result, 0);
  CreateVm(9, kRestartable);
  vxe_ctl_event release{};
  release.type = VXE_CTL_EVENT_RELEASE;
  release.file_id = 9;
  Send(release);
  drm_xe_vm_create create{};
  EXPECT_EQ(Call(VXE_CTL_EVENT_IOCTL, 9, DRM_IOCTL_XE_VM_CREATE, Bytes(create))
                .result,
            -ENODEV);
  EXPECT_EQ(server_->Status().files_size(), 0);
}

TEST_F(VxeServerTest, ReleaseIsAnsweredOnceTheFileIsGone) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 4).result, 0);
  CreateVm(4, kRestartable);
  // The closing task waits for this reply (vxe_ctl.h).
  EXPECT_EQ(Call(VXE_CTL_EVENT_RELEASE, 4).result, 0);
  EXPECT_EQ(server_->Status().files_size(), 0);
}

TEST_F(VxeServerTest, ServeEndsUnavailableWhenTheChannelCloses) {
  Start();
  ASSERT_EQ(Call(VXE_CTL_EVENT_OPEN, 1).result, 0);
  kernel_.reset();
  thread_.join();
  EXPECT_EQ(ended_.code(), absl::StatusCode::kUnavailable) << ended_;
  EXPECT_EQ(server_->Status().files_size(), 0) << "files released on return";
}

TEST_F(VxeServerTest, AMalformedEventEndsServeWithDataLoss) {
  Start();
  vxe_ctl_event event{};
  event.type = VXE_CTL_EVENT_IOCTL;
  event.arg_size = VXE_CTL_MAX_ARG + 1;
  Send(event);
  thread_.join();
  EXPECT_EQ(ended_.code(), absl::StatusCode::kDataLoss) << ended_;
}

TEST_F(VxeServerTest, AnUnknownEventTypeEndsServeWithDataLoss) {
  Start();
  vxe_ctl_event event{};
  event.type = 99;
  Send(event);
  thread_.join();
  EXPECT_EQ(ended_.code(), absl::StatusCode::kDataLoss) << ended_;
}

TEST_F(VxeServerTest, ServeEndsOkOnStop) {
  Start();
  Stop();
  EXPECT_TRUE(ended_.ok()) << ended_;
}

}  // namespace
}  // namespace xehil::simd
