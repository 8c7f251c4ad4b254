/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vxe internals shared by the DRM driver (vxe_drv.c) and the control device
 * (vxe_ctl.c).
 */
#ifndef VXE_H
#define VXE_H

#include <linux/cred.h>
#include <linux/types.h>
#include <linux/watch_queue.h>

/* One open DRM file. */
struct vxe_file {
	u64 id; /* the DRM file's client_id (drm-client-id in fdinfo) */
	/* Control generation that accepted the open; 0: unserved. */
	u64 gen;
	struct watch_list *wlist;
	const struct cred *cred; /* the opener's, for posted records */
};

int vxe_ctl_register(void);
void vxe_ctl_unregister(void);

/*
 * Announces a new file; sets vf->gen when a daemon accepted it. 0 when no
 * daemon is attached (the file stays unserved), else the daemon's answer or
 * -EINTR when the caller was killed while waiting.
 */
int vxe_ctl_open(struct vxe_file *vf);
/*
 * Forwards one ioctl and waits for the reply: the daemon's result, or
 * -ENODEV without a daemon serving this file. `arg` is updated in place.
 */
int vxe_ctl_ioctl(struct vxe_file *vf, u32 request, void *arg, u32 size);
/* Tells the daemon a watch was added (waits for it, ignores its result). */
void vxe_ctl_watched(struct vxe_file *vf, u32 request, const void *arg,
		     u32 size);
/* Announces the release (does not wait). */
void vxe_ctl_release(struct vxe_file *vf);

/*
 * Posts `n` (length in its info bits) to the watches of file `id`:
 * 0 or -ENOENT.
 */
int vxe_post_record(u64 id, struct watch_notification *n);

#endif /* VXE_H */
