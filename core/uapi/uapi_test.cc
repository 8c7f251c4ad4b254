#include <fcntl.h>

#include <cstring>

#include "core/uapi/xe_uapi.h"
#include "gtest/gtest.h"

extern "C" unsigned long xehil_uapi_c_vm_restart_request(void);

namespace {

TEST(Uapi, CAndCxxAgreeOnRequestNumbers) {
  EXPECT_EQ(xehil_uapi_c_vm_restart_request(), DRM_IOCTL_XE_VM_RESTART);
}

TEST(Uapi, RequestNumbersEncodeDirectionAndSize) {
  EXPECT_EQ(_IOC_DIR(DRM_IOCTL_XE_VM_RESTART), unsigned{_IOC_WRITE});
  EXPECT_EQ(_IOC_SIZE(DRM_IOCTL_XE_VM_RESTART), sizeof(drm_xe_vm_restart));
  EXPECT_EQ(_IOC_NR(DRM_IOCTL_XE_VM_RESTART), 0x50u);
  EXPECT_EQ(_IOC_NR(DRM_IOCTL_XE_WATCH_QUEUE), 0x51u);
  EXPECT_EQ(_IOC_DIR(DRM_IOCTL_XE_DEVICE_QUERY),
            unsigned{_IOC_READ | _IOC_WRITE});
  EXPECT_EQ(_IOC_SIZE(DRM_IOCTL_XE_VM_BIND), 136u);
}

TEST(Uapi, RecordHeaderBitfieldsMatchTheWireLayout) {
  // type occupies the low 24 bits of the first word, subtype the top 8.
  watch_notification n{};
  n.type = WATCH_TYPE_DRM_XE_NOTIFY;
  n.subtype = DRM_XE_WATCH_EVENT_VM_ERR + 3;
  uint32_t word = 0;
  std::memcpy(&word, &n, sizeof(word));
  EXPECT_EQ(word, 2u | (3u << 24));
}

TEST(Uapi, NotificationPipeFlagIsOExcl) {
  EXPECT_EQ(O_NOTIFICATION_PIPE, O_EXCL);
}

}  // namespace
