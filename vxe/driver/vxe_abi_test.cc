// The vxe driver registers the xe requests by number (vxe_xe_abi.h) so that
// the kernel module needs no xe uapi header: they must be the very requests
// core/uapi/xe_uapi.h defines.
#include <cstddef>

#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"
#include "vxe/driver/vxe_ctl.h"
#include "vxe/driver/vxe_xe_abi.h"

namespace {

TEST(VxeXeAbi, ForwardedRequestsAreTheUapiRequests) {
  EXPECT_EQ(VXE_XE_IOCTL_DEVICE_QUERY, DRM_IOCTL_XE_DEVICE_QUERY);
  EXPECT_EQ(VXE_XE_IOCTL_GEM_CREATE, DRM_IOCTL_XE_GEM_CREATE);
  EXPECT_EQ(VXE_XE_IOCTL_VM_CREATE, DRM_IOCTL_XE_VM_CREATE);
  EXPECT_EQ(VXE_XE_IOCTL_VM_DESTROY, DRM_IOCTL_XE_VM_DESTROY);
  EXPECT_EQ(VXE_XE_IOCTL_VM_BIND, DRM_IOCTL_XE_VM_BIND);
  EXPECT_EQ(VXE_XE_IOCTL_EXEC_QUEUE_CREATE, DRM_IOCTL_XE_EXEC_QUEUE_CREATE);
  EXPECT_EQ(VXE_XE_IOCTL_EXEC_QUEUE_DESTROY, DRM_IOCTL_XE_EXEC_QUEUE_DESTROY);
  EXPECT_EQ(VXE_XE_IOCTL_VM_RESTART, DRM_IOCTL_XE_VM_RESTART);
  EXPECT_EQ(VXE_XE_IOCTL_WATCH_QUEUE, DRM_IOCTL_XE_WATCH_QUEUE);
  EXPECT_GT(VXE_XE_NUM_IOCTLS, DRM_XE_WATCH_QUEUE);
}

TEST(VxeXeAbi, WatchQueueArgumentMatchesTheUapiStruct) {
  EXPECT_EQ(sizeof(vxe_xe_watch_queue), sizeof(drm_xe_watch_queue));
  EXPECT_EQ(offsetof(vxe_xe_watch_queue, watch_id),
            offsetof(drm_xe_watch_queue, watch_id));
  EXPECT_EQ(offsetof(vxe_xe_watch_queue, flags),
            offsetof(drm_xe_watch_queue, flags));
  EXPECT_EQ(offsetof(vxe_xe_watch_queue, pad),
            offsetof(drm_xe_watch_queue, pad));
  EXPECT_EQ(VXE_WATCH_TYPE_DRM_XE_NOTIFY, WATCH_TYPE_DRM_XE_NOTIFY);
}

TEST(VxeCtlAbi, EveryForwardedArgumentAndRecordFits) {
  EXPECT_LE(sizeof(drm_xe_vm_bind), size_t{VXE_CTL_MAX_ARG});
  EXPECT_LE(sizeof(drm_gem_close), size_t{VXE_CTL_MAX_ARG});
  EXPECT_LT(size_t{WATCH_INFO_LENGTH}, size_t{VXE_CTL_MAX_RECORD});
}

}  // namespace
