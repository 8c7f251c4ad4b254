/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The vxe control device (/dev/vxe_ctl): how the vxe kernel driver hands xe
 * ioctls to the device model in userspace (xehil-simd --vxe_control) and
 * takes watch-queue records back. Usable from the kernel, C11 and C++17;
 * every layout is pinned below.
 *
 * One process may hold the device open at a time (a second open: EBUSY).
 * Each read(2) returns exactly one struct vxe_ctl_event (the buffer must be
 * at least that big, else EINVAL; O_NONBLOCK and nothing queued: EAGAIN);
 * poll(2) reports POLLIN while events are queued. Each write(2) carries
 * exactly one command: a struct vxe_ctl_reply or a struct vxe_ctl_post,
 * whole (any other length or type: EINVAL).
 *
 * Events, in the order they happened:
 *  - OPEN: a DRM file was opened (pid/comm of the opener). Needs a reply;
 *    a negative result fails the open(2) with it.
 *  - IOCTL: an xe ioctl on a file. `request` is the driver's own request
 *    number (canonical size), `arg` its argument bytes. The caller sleeps
 *    (killable) until the reply; the reply's arg bytes are copied back for
 *    _IOC_READ requests. User pointers inside `arg` point into process
 *    `pid`: the daemon reads and writes them itself (process_vm_readv).
 *  - WATCHED: DRM_IOCTL_XE_WATCH_QUEUE succeeded in the kernel (`arg` is
 *    the argument). Needs a reply; its result is ignored. Lets the model
 *    fire rules on subscriptions before the ioctl returns.
 *  - RELEASE: the file was released. Needs a reply (result ignored): the
 *    closing task waits for it (killable, 10 s at most), so once close() returns the
 *    model has dropped the file's objects, as xe's postclose does. The
 *    kernel has posted the removal records already. A killed closer does
 *    not wait, but the event stays and its late reply is accepted.
 *
 * Commands:
 *  - REPLY: answers the event with `seq`. ENOENT if no caller waits for it
 *    (it was killed), EINVAL if arg_size differs from the event's or the
 *    result is not 0 or a negative errno (the caller then gets EIO).
 *  - POST: posts one watch-queue record on every watch of file `file_id`
 *    with the kernel's post_watch_notification (it ORs in each watch's id
 *    and applies the pipe's ring, filter and loss rules). ENOENT if the
 *    file is not open; EINVAL if `size` is not 8..127, differs from the
 *    record's length bits, or the record is a meta (type 0) record.
 *
 * Without a daemon, and once its descriptor closes, xe ioctls fail with
 * ENODEV at once, pending callers included. Files opened while no daemon
 * (or an earlier one) was attached stay unserved (ENODEV) for their life:
 * a new daemon has none of their state.
 */
#ifndef VXE_CTL_H
#define VXE_CTL_H

#include <linux/types.h>

#define VXE_CTL_NAME "vxe_ctl" /* /dev/vxe_ctl */
#define VXE_CTL_MAX_ARG 256    /* largest forwarded argument: VM_BIND, 136 */
#define VXE_CTL_MAX_RECORD 128 /* watch records are 8..127 bytes */
#define VXE_CTL_COMM_LEN 16

enum vxe_ctl_event_type {
	VXE_CTL_EVENT_OPEN = 1,
	VXE_CTL_EVENT_IOCTL = 2,
	VXE_CTL_EVENT_WATCHED = 3,
	VXE_CTL_EVENT_RELEASE = 4,
};

enum vxe_ctl_command_type {
	VXE_CTL_CMD_REPLY = 1,
	VXE_CTL_CMD_POST = 2,
};

/* Kernel -> daemon, one per read(2). */
struct vxe_ctl_event {
	__u32 type;     /* enum vxe_ctl_event_type */
	__u32 arg_size; /* bytes of arg in use */
	__u64 seq;      /* echo in the reply; 0 for events without one */
	__u64 file_id;  /* drm-client-id in fdinfo; never reused */
	__u32 pid;      /* caller's thread-group id */
	__u32 request;  /* IOCTL, WATCHED: the ioctl request */
	char comm[VXE_CTL_COMM_LEN]; /* caller's comm, NUL-terminated */
	__u8 arg[VXE_CTL_MAX_ARG];
};

/* Daemon -> kernel: the answer to an OPEN, IOCTL or WATCHED event. */
struct vxe_ctl_reply {
	__u32 type;     /* VXE_CTL_CMD_REPLY */
	__s32 result;   /* 0 or a negative errno */
	__u64 seq;      /* the event's */
	__u32 arg_size; /* the event's */
	__u32 pad;      /* 0 */
	__u8 arg[VXE_CTL_MAX_ARG];
};

/* Daemon -> kernel: one record for a file's watches. */
struct vxe_ctl_post {
	__u32 type; /* VXE_CTL_CMD_POST */
	__u32 size; /* record bytes, equal to its info length bits */
	__u64 file_id;
	__u8 record[VXE_CTL_MAX_RECORD];
};

#if defined(__KERNEL__)
#define VXE_CTL_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__cplusplus)
#define VXE_CTL_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define VXE_CTL_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

VXE_CTL_ASSERT(sizeof(struct vxe_ctl_event) == 304, "vxe_ctl_event size");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_event, file_id) == 16,
	       "vxe_ctl_event.file_id");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_event, pid) == 24,
	       "vxe_ctl_event.pid");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_event, comm) == 32,
	       "vxe_ctl_event.comm");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_event, arg) == 48,
	       "vxe_ctl_event.arg");
VXE_CTL_ASSERT(sizeof(struct vxe_ctl_reply) == 280, "vxe_ctl_reply size");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_reply, seq) == 8,
	       "vxe_ctl_reply.seq");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_reply, arg) == 24,
	       "vxe_ctl_reply.arg");
VXE_CTL_ASSERT(sizeof(struct vxe_ctl_post) == 144, "vxe_ctl_post size");
VXE_CTL_ASSERT(__builtin_offsetof(struct vxe_ctl_post, record) == 16,
	       "vxe_ctl_post.record");

#endif /* VXE_CTL_H */
