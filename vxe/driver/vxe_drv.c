// SPDX-License-Identifier: GPL-2.0
/*
 * vxe: a DRM render node that answers to the name "xe" with the xehil
 * subset of the xe uapi, for running the real notification-pipe path
 * without an xe GPU.
 *
 * DRM_IOCTL_XE_WATCH_QUEUE is served here on the kernel's watch_queue API:
 * each DRM file owns a watch_list, and releasing the file removes it, which
 * posts a removal record to every subscribed pipe. Every other xe ioctl
 * (and DRM_IOCTL_GEM_CLOSE) is forwarded to the userspace device model
 * through the control device (vxe_ctl.c); the records it sends back are
 * posted here with post_watch_notification.
 */
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/watch_queue.h>
#include <linux/xarray.h>

#include <drm/drm.h>
#include <drm/drm_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_ioctl.h>

#include "vxe.h"
#include "vxe_xe_abi.h"

static struct platform_device *vxe_pdev;
static struct drm_device *vxe_drm;

/*
 * Open files by id, so that posted records find their watch list. Lookups
 * and removal are serialised by vxe_files_lock, so a post never races the
 * file's release.
 */
static DEFINE_XARRAY(vxe_files);
static DEFINE_MUTEX(vxe_files_lock);

int vxe_post_record(u64 id, struct watch_notification *n)
{
	struct vxe_file *vf;
	int ret = -ENOENT;

	mutex_lock(&vxe_files_lock);
	vf = xa_load(&vxe_files, id);
	if (vf) {
		post_watch_notification(vf->wlist, n, vf->cred, 0);
		ret = 0;
	}
	mutex_unlock(&vxe_files_lock);
	return ret;
}

/* init_watch() is not exported: the same initialisation. */
static void vxe_init_watch(struct watch *watch, struct watch_queue *wqueue)
{
	kref_init(&watch->usage);
	INIT_HLIST_NODE(&watch->list_node);
	INIT_HLIST_NODE(&watch->queue_node);
	rcu_assign_pointer(watch->queue, wqueue);
}

static int vxe_watch_queue_ioctl(struct drm_device *dev, void *data,
				 struct drm_file *file)
{
	struct vxe_xe_watch_queue *args = data;
	struct vxe_file *vf = file->driver_priv;
	struct watch_queue *wqueue;
	struct watch *watch;
	int ret;

	if (args->flags || args->pad || args->watch_id > 0xff)
		return -EINVAL;
	/*
	 * EINVAL for a bad descriptor and for a pipe that is not a
	 * notification pipe alike.
	 */
	wqueue = get_watch_queue((int)args->fd);
	if (IS_ERR(wqueue))
		return PTR_ERR(wqueue);
	watch = kzalloc(sizeof(*watch), GFP_KERNEL);
	if (!watch) {
		ret = -ENOMEM;
		goto out;
	}
	vxe_init_watch(watch, wqueue);
	watch->id = 0; /* the list watches one object: this file */
	watch->info_id = args->watch_id << WATCH_INFO_ID__SHIFT;
	/* EBUSY when this pipe already watches this file. */
	ret = add_watch_to_object(watch, vf->wlist);
	if (ret)
		kfree(watch);
out:
	put_watch_queue(wqueue);
	if (!ret)
		vxe_ctl_watched(vf, VXE_XE_IOCTL_WATCH_QUEUE, args,
				sizeof(*args));
	return ret;
}

/*
 * One forwarding function per request: DRM handlers are not told which
 * request they serve.
 */
#define VXE_FORWARD(ioctl)                                                  \
	static int vxe_fwd_##ioctl(struct drm_device *dev, void *data,      \
				   struct drm_file *file)                   \
	{                                                                   \
		return vxe_ctl_ioctl(file->driver_priv, VXE_XE_IOCTL_##ioctl, \
				     data, _IOC_SIZE(VXE_XE_IOCTL_##ioctl)); \
	}
VXE_FORWARD(DEVICE_QUERY)
VXE_FORWARD(GEM_CREATE)
VXE_FORWARD(VM_CREATE)
VXE_FORWARD(VM_DESTROY)
VXE_FORWARD(VM_BIND)
VXE_FORWARD(EXEC_QUEUE_CREATE)
VXE_FORWARD(EXEC_QUEUE_DESTROY)
VXE_FORWARD(VM_RESTART)

#define VXE_IOCTL(ioctl, handler)                                 \
	[_IOC_NR(VXE_XE_IOCTL_##ioctl) - VXE_DRM_COMMAND_BASE] = {  \
		.cmd = VXE_XE_IOCTL_##ioctl,                        \
		.func = handler,                                    \
		.flags = DRM_RENDER_ALLOW,                          \
		.name = "XE_" #ioctl,                               \
	}

/* Unregistered numbers in between fail with EINVAL in drm_ioctl(). */
static const struct drm_ioctl_desc vxe_ioctls[VXE_XE_NUM_IOCTLS] = {
	VXE_IOCTL(DEVICE_QUERY, vxe_fwd_DEVICE_QUERY),
	VXE_IOCTL(GEM_CREATE, vxe_fwd_GEM_CREATE),
	VXE_IOCTL(VM_CREATE, vxe_fwd_VM_CREATE),
	VXE_IOCTL(VM_DESTROY, vxe_fwd_VM_DESTROY),
	VXE_IOCTL(VM_BIND, vxe_fwd_VM_BIND),
	VXE_IOCTL(EXEC_QUEUE_CREATE, vxe_fwd_EXEC_QUEUE_CREATE),
	VXE_IOCTL(EXEC_QUEUE_DESTROY, vxe_fwd_EXEC_QUEUE_DESTROY),
	VXE_IOCTL(VM_RESTART, vxe_fwd_VM_RESTART),
	VXE_IOCTL(WATCH_QUEUE, vxe_watch_queue_ioctl),
};

/*
 * DRM_IOCTL_GEM_CLOSE is a DRM core ioctl that would look for a GEM object
 * of this file; the device model owns the handles, so it goes there.
 */
static long vxe_gem_close(struct file *filp, unsigned long arg)
{
	struct drm_file *file = filp->private_data;
	struct drm_gem_close args;

	if (copy_from_user(&args, (void __user *)arg, sizeof(args)))
		return -EFAULT;
	return vxe_ctl_ioctl(file->driver_priv, DRM_IOCTL_GEM_CLOSE, &args,
			     sizeof(args));
}

static long vxe_unlocked_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	if (_IOC_TYPE(cmd) == DRM_IOCTL_BASE &&
	    _IOC_NR(cmd) == _IOC_NR(DRM_IOCTL_GEM_CLOSE))
		return vxe_gem_close(filp, arg);
	return drm_ioctl(filp, cmd, arg);
}

static void vxe_file_free(struct vxe_file *vf)
{
	mutex_lock(&vxe_files_lock);
	xa_erase(&vxe_files, vf->id);
	mutex_unlock(&vxe_files_lock);
	/* Posts a removal record to every watch, then frees the list. */
	remove_watch_list(vf->wlist, 0);
	vxe_ctl_release(vf);
	put_cred(vf->cred);
	kfree(vf);
}

static int vxe_open(struct drm_device *dev, struct drm_file *file)
{
	struct vxe_file *vf;
	int ret;

	vf = kzalloc(sizeof(*vf), GFP_KERNEL);
	if (!vf)
		return -ENOMEM;
	vf->wlist = kzalloc(sizeof(*vf->wlist), GFP_KERNEL);
	if (!vf->wlist) {
		kfree(vf);
		return -ENOMEM;
	}
	init_watch_list(vf->wlist, NULL);
	vf->cred = get_current_cred();
	/*
	 * The DRM core's client id, which fdinfo shows as drm-client-id, so a
	 * program can name its own file to the daemon. DRM core counts it up
	 * once per file for the kernel's lifetime: never reused.
	 */
	vf->id = file->client_id;
	mutex_lock(&vxe_files_lock);
	ret = xa_err(xa_store(&vxe_files, vf->id, vf, GFP_KERNEL));
	mutex_unlock(&vxe_files_lock);
	if (ret) {
		remove_watch_list(vf->wlist, 0);
		put_cred(vf->cred);
		kfree(vf);
		return ret;
	}
	ret = vxe_ctl_open(vf);
	if (ret) {
		vxe_file_free(vf);
		return ret;
	}
	file->driver_priv = vf;
	return 0;
}

static void vxe_postclose(struct drm_device *dev, struct drm_file *file)
{
	vxe_file_free(file->driver_priv);
}

static const struct file_operations vxe_fops = {
	.owner = THIS_MODULE,
	.open = drm_open,
	.release = drm_release,
	.unlocked_ioctl = vxe_unlocked_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	/* drm-driver and drm-client-id in /proc/PID/fdinfo, as xe has. */
	.show_fdinfo = drm_show_fdinfo,
	/* 6.12's drm_open_helper() refuses files without it. */
	.fop_flags = FOP_UNSIGNED_OFFSET,
};

static const struct drm_driver vxe_driver = {
	.driver_features = DRIVER_RENDER,
	.open = vxe_open,
	.postclose = vxe_postclose,
	.ioctls = vxe_ioctls,
	.num_ioctls = ARRAY_SIZE(vxe_ioctls),
	.fops = &vxe_fops,
	.name = "xe",
	.desc = "Intel Xe Graphics (xehil vxe)",
	.date = "20201103",
	.major = 1,
	.minor = 1,
};

static int __init vxe_init(void)
{
	int ret;

	ret = vxe_ctl_register();
	if (ret)
		return ret;
	vxe_pdev = platform_device_register_simple("vxe", -1, NULL, 0);
	if (IS_ERR(vxe_pdev)) {
		ret = PTR_ERR(vxe_pdev);
		goto err_ctl;
	}
	vxe_drm = drm_dev_alloc(&vxe_driver, &vxe_pdev->dev);
	if (IS_ERR(vxe_drm)) {
		ret = PTR_ERR(vxe_drm);
		goto err_pdev;
	}
	ret = drm_dev_register(vxe_drm, 0);
	if (ret)
		goto err_put;
	pr_info("vxe: xe render node renderD%d\n", vxe_drm->render->index);
	return 0;
err_put:
	drm_dev_put(vxe_drm);
err_pdev:
	platform_device_unregister(vxe_pdev);
err_ctl:
	vxe_ctl_unregister();
	return ret;
}

static void __exit vxe_exit(void)
{
	drm_dev_unregister(vxe_drm);
	drm_dev_put(vxe_drm);
	platform_device_unregister(vxe_pdev);
	vxe_ctl_unregister();
}

module_init(vxe_init);
module_exit(vxe_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xe uapi render node backed by a userspace device model");
