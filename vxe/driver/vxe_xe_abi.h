/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The xe ioctl requests the vxe driver registers, as plain numbers so that
 * the kernel module needs no xe uapi header. Direction, size and number are
 * those of core/uapi/xe_uapi.h; vxe/driver/vxe_abi_test.cc checks that they
 * agree. Usable from the kernel, C and C++.
 */
#ifndef VXE_XE_ABI_H
#define VXE_XE_ABI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VXE_DRM_IOCTL_BASE 'd'
#define VXE_DRM_COMMAND_BASE 0x40

#define VXE_XE_IOWR(nr, size) \
	_IOC(_IOC_READ | _IOC_WRITE, VXE_DRM_IOCTL_BASE, \
	     VXE_DRM_COMMAND_BASE + (nr), (size))
#define VXE_XE_IOW(nr, size) \
	_IOC(_IOC_WRITE, VXE_DRM_IOCTL_BASE, VXE_DRM_COMMAND_BASE + (nr), (size))

/* Forwarded to the device model. */
#define VXE_XE_IOCTL_DEVICE_QUERY VXE_XE_IOWR(0x00, 40)
#define VXE_XE_IOCTL_GEM_CREATE VXE_XE_IOWR(0x01, 56)
#define VXE_XE_IOCTL_VM_CREATE VXE_XE_IOWR(0x03, 32)
#define VXE_XE_IOCTL_VM_DESTROY VXE_XE_IOW(0x04, 24)
#define VXE_XE_IOCTL_VM_BIND VXE_XE_IOW(0x05, 136)
#define VXE_XE_IOCTL_EXEC_QUEUE_CREATE VXE_XE_IOWR(0x06, 48)
#define VXE_XE_IOCTL_EXEC_QUEUE_DESTROY VXE_XE_IOW(0x07, 24)
#define VXE_XE_IOCTL_VM_RESTART VXE_XE_IOW(0x10, 24)
/* Served in the kernel on the watch_queue API. */
#define VXE_XE_IOCTL_WATCH_QUEUE VXE_XE_IOW(0x11, 16)

/* Highest xe command number registered, plus one. */
#define VXE_XE_NUM_IOCTLS 0x12

/* struct drm_xe_watch_queue. */
struct vxe_xe_watch_queue {
	__u32 fd;
	__u32 watch_id; /* 0..255 */
	__u32 flags;
	__u32 pad;
};

/* WATCH_TYPE_DRM_XE_NOTIFY: the xe series extends enum watch_notification_type. */
#define VXE_WATCH_TYPE_DRM_XE_NOTIFY 2

#endif /* VXE_XE_ABI_H */
