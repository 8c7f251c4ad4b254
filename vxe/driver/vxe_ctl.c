// SPDX-License-Identifier: GPL-2.0
/*
 * The vxe control device: a queue of events (file opens, ioctls, watches,
 * releases) read by the userspace device model, and the replies and records
 * it writes back. The ABI is described in vxe_ctl.h.
 *
 * Messages live on one of two lists under vxe_ctl_lock: `queued` (not read
 * yet) and `inflight` (read, waiting for a reply). A caller that waits owns
 * its message and frees it; a message whose waiter left (an orphan: a RELEASE
 * whose task was killed) is freed by whoever takes it off the lists, and the
 * daemon still sees it.
 */
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "vxe.h"
#include "vxe_ctl.h"

struct vxe_msg {
	struct list_head link;
	struct vxe_ctl_event ev;
	struct completion done;
	bool wants_reply;
	bool orphan;   /* nobody waits: freed when taken off the lists */
	bool finished; /* result and reply are final; off every list */
	int result;
	u8 reply[VXE_CTL_MAX_ARG];
};

/* How long a closing task waits for the daemon to drop its file. */
#define VXE_RELEASE_WAIT (10 * HZ)

static DEFINE_SPINLOCK(vxe_ctl_lock);
static LIST_HEAD(vxe_ctl_queued);
static LIST_HEAD(vxe_ctl_inflight);
static DECLARE_WAIT_QUEUE_HEAD(vxe_ctl_wait);
static bool vxe_ctl_attached;
static u64 vxe_ctl_gen;
static u64 vxe_ctl_next_seq = 1;

static struct vxe_msg *vxe_msg_new(u32 type, struct vxe_file *vf, u32 request,
				   const void *arg, u32 size, bool wants_reply)
{
	struct vxe_msg *m;

	if (WARN_ON(size > VXE_CTL_MAX_ARG))
		return NULL;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	m->ev.type = type;
	m->ev.file_id = vf->id;
	m->ev.pid = task_tgid_nr(current);
	m->ev.request = request;
	m->ev.arg_size = size;
	get_task_comm(m->ev.comm, current);
	if (size)
		memcpy(m->ev.arg, arg, size);
	init_completion(&m->done);
	m->wants_reply = wants_reply;
	return m;
}

/*
 * Queues `m` for the daemon serving `vf` (for OPEN: the attached daemon,
 * whose generation vf then takes). -ENODEV if there is none.
 */
static int vxe_ctl_submit(struct vxe_msg *m, struct vxe_file *vf)
{
	spin_lock(&vxe_ctl_lock);
	if (!vxe_ctl_attached ||
	    (m->ev.type != VXE_CTL_EVENT_OPEN && vf->gen != vxe_ctl_gen)) {
		spin_unlock(&vxe_ctl_lock);
		return -ENODEV;
	}
	if (m->ev.type == VXE_CTL_EVENT_OPEN)
		vf->gen = vxe_ctl_gen;
	if (m->wants_reply)
		m->ev.seq = vxe_ctl_next_seq++;
	list_add_tail(&m->link, &vxe_ctl_queued);
	spin_unlock(&vxe_ctl_lock);
	wake_up_interruptible(&vxe_ctl_wait);
	return 0;
}

/* Submits `m`, waits for its reply and frees it. */
static int vxe_ctl_call(struct vxe_msg *m, struct vxe_file *vf, void *arg)
{
	int ret = vxe_ctl_submit(m, vf);

	if (ret)
		goto out;
	ret = wait_for_completion_killable(&m->done);
	spin_lock(&vxe_ctl_lock);
	if (!m->finished) {
		/* Killed: withdraw; a late reply then gets ENOENT. */
		list_del(&m->link);
		m->finished = true;
		m->result = -EINTR;
	}
	spin_unlock(&vxe_ctl_lock);
	ret = m->result;
	if (ret == 0 && arg)
		memcpy(arg, m->reply, m->ev.arg_size);
out:
	kfree(m);
	return ret;
}

int vxe_ctl_open(struct vxe_file *vf)
{
	struct vxe_msg *m = vxe_msg_new(VXE_CTL_EVENT_OPEN, vf, 0, NULL, 0,
					true);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = vxe_ctl_call(m, vf, NULL);
	/* No daemon: the file opens but stays unserved. */
	return ret == -ENODEV ? 0 : ret;
}

int vxe_ctl_ioctl(struct vxe_file *vf, u32 request, void *arg, u32 size)
{
	struct vxe_msg *m;

	if (!vf->gen)
		return -ENODEV;
	m = vxe_msg_new(VXE_CTL_EVENT_IOCTL, vf, request, arg, size, true);
	if (!m)
		return -ENOMEM;
	return vxe_ctl_call(m, vf, arg);
}

void vxe_ctl_watched(struct vxe_file *vf, u32 request, const void *arg,
		     u32 size)
{
	struct vxe_msg *m;

	if (!vf->gen)
		return;
	m = vxe_msg_new(VXE_CTL_EVENT_WATCHED, vf, request, arg, size, true);
	if (m)
		vxe_ctl_call(m, vf, NULL);
}

void vxe_ctl_release(struct vxe_file *vf)
{
	struct vxe_msg *m;
	bool mine = true;

	if (!vf->gen)
		return;
	/*
	 * Waits for the daemon, as xe's postclose destroys the file's VMs and
	 * BOs before close() returns: afterwards the device model has none.
	 */
	m = vxe_msg_new(VXE_CTL_EVENT_RELEASE, vf, 0, NULL, 0, true);
	if (!m)
		return;
	if (vxe_ctl_submit(m, vf)) {
		kfree(m);
		return;
	}
	/*
	 * Bounded: an exiting task cannot be killed again, and a stuck daemon
	 * must not keep it from exiting.
	 */
	if (wait_for_completion_killable_timeout(&m->done,
						 VXE_RELEASE_WAIT) <= 0) {
		/* Killed or timed out: the daemon still releases; it frees m. */
		spin_lock(&vxe_ctl_lock);
		if (!m->finished) {
			m->orphan = true;
			mine = false;
		}
		spin_unlock(&vxe_ctl_lock);
	}
	if (mine)
		kfree(m);
}

static int vxe_ctl_fop_open(struct inode *inode, struct file *filp)
{
	spin_lock(&vxe_ctl_lock);
	if (vxe_ctl_attached) {
		spin_unlock(&vxe_ctl_lock);
		return -EBUSY;
	}
	vxe_ctl_attached = true;
	vxe_ctl_gen++;
	spin_unlock(&vxe_ctl_lock);
	pr_info("vxe: device model attached (generation %llu)\n", vxe_ctl_gen);
	return nonseekable_open(inode, filp);
}

/* Fails every message on `list` with -ENODEV. Requires vxe_ctl_lock. */
static void vxe_ctl_fail_all(struct list_head *list)
{
	struct vxe_msg *m, *next;

	list_for_each_entry_safe(m, next, list, link) {
		list_del(&m->link);
		if (!m->wants_reply || m->orphan) {
			kfree(m);
			continue;
		}
		m->finished = true;
		m->result = -ENODEV;
		complete(&m->done);
	}
}

static int vxe_ctl_fop_release(struct inode *inode, struct file *filp)
{
	spin_lock(&vxe_ctl_lock);
	vxe_ctl_attached = false;
	vxe_ctl_fail_all(&vxe_ctl_queued);
	vxe_ctl_fail_all(&vxe_ctl_inflight);
	spin_unlock(&vxe_ctl_lock);
	pr_info("vxe: device model detached\n");
	return 0;
}

static bool vxe_ctl_has_queued(void)
{
	bool queued;

	spin_lock(&vxe_ctl_lock);
	queued = !list_empty(&vxe_ctl_queued);
	spin_unlock(&vxe_ctl_lock);
	return queued;
}

static ssize_t vxe_ctl_fop_read(struct file *filp, char __user *buf,
				size_t count, loff_t *ppos)
{
	struct vxe_ctl_event *ev;
	struct vxe_msg *m;
	int ret;

	if (count < sizeof(*ev))
		return -EINVAL;
	ev = kmalloc(sizeof(*ev), GFP_KERNEL);
	if (!ev)
		return -ENOMEM;
	for (;;) {
		spin_lock(&vxe_ctl_lock);
		m = list_first_entry_or_null(&vxe_ctl_queued, struct vxe_msg,
					     link);
		if (m)
			break;
		spin_unlock(&vxe_ctl_lock);
		ret = -EAGAIN;
		if (filp->f_flags & O_NONBLOCK)
			goto out;
		ret = wait_event_interruptible(vxe_ctl_wait,
					       vxe_ctl_has_queued());
		if (ret)
			goto out;
	}
	memcpy(ev, &m->ev, sizeof(*ev));
	if (m->wants_reply) {
		list_move_tail(&m->link, &vxe_ctl_inflight);
		m = NULL;
	} else {
		list_del(&m->link);
	}
	spin_unlock(&vxe_ctl_lock);
	kfree(m);
	ret = copy_to_user(buf, ev, sizeof(*ev)) ? -EFAULT : sizeof(*ev);
out:
	kfree(ev);
	return ret;
}

static int vxe_ctl_reply(const struct vxe_ctl_reply *r)
{
	struct vxe_msg *m;
	bool valid;

	valid = r->pad == 0 && r->result <= 0 && r->result >= -MAX_ERRNO &&
		r->arg_size <= VXE_CTL_MAX_ARG;
	spin_lock(&vxe_ctl_lock);
	list_for_each_entry(m, &vxe_ctl_inflight, link) {
		if (m->ev.seq != r->seq)
			continue;
		list_del(&m->link);
		if (m->orphan) {
			spin_unlock(&vxe_ctl_lock);
			kfree(m);
			return valid ? 0 : -EINVAL;
		}
		m->finished = true;
		if (valid && r->arg_size == m->ev.arg_size) {
			m->result = r->result;
			memcpy(m->reply, r->arg, r->arg_size);
		} else {
			valid = false;
			m->result = -EIO;
		}
		complete(&m->done);
		spin_unlock(&vxe_ctl_lock);
		return valid ? 0 : -EINVAL;
	}
	spin_unlock(&vxe_ctl_lock);
	return -ENOENT;
}

static int vxe_ctl_post(struct vxe_ctl_post *p)
{
	struct watch_notification *n = (struct watch_notification *)p->record;

	if (p->size < sizeof(*n) || p->size >= VXE_CTL_MAX_RECORD)
		return -EINVAL;
	if ((n->info & WATCH_INFO_LENGTH) >> WATCH_INFO_LENGTH__SHIFT !=
	    p->size)
		return -EINVAL;
	if (n->type == WATCH_TYPE_META)
		return -EINVAL;
	return vxe_post_record(p->file_id, n);
}

static ssize_t vxe_ctl_fop_write(struct file *filp, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	union {
		u32 type;
		struct vxe_ctl_reply reply;
		struct vxe_ctl_post post;
	} *cmd;
	int ret;

	if (count < sizeof(u32) || count > sizeof(*cmd))
		return -EINVAL;
	cmd = memdup_user(buf, count);
	if (IS_ERR(cmd))
		return PTR_ERR(cmd);
	if (cmd->type == VXE_CTL_CMD_REPLY && count == sizeof(cmd->reply))
		ret = vxe_ctl_reply(&cmd->reply);
	else if (cmd->type == VXE_CTL_CMD_POST && count == sizeof(cmd->post))
		ret = vxe_ctl_post(&cmd->post);
	else
		ret = -EINVAL;
	kfree(cmd);
	return ret ? ret : count;
}

static __poll_t vxe_ctl_fop_poll(struct file *filp, poll_table *wait)
{
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(filp, &vxe_ctl_wait, wait);
	if (vxe_ctl_has_queued())
		mask |= EPOLLIN | EPOLLRDNORM;
	return mask;
}

static const struct file_operations vxe_ctl_fops = {
	.owner = THIS_MODULE,
	.open = vxe_ctl_fop_open,
	.release = vxe_ctl_fop_release,
	.read = vxe_ctl_fop_read,
	.write = vxe_ctl_fop_write,
	.poll = vxe_ctl_fop_poll,
};

static struct miscdevice vxe_ctl_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = VXE_CTL_NAME,
	.fops = &vxe_ctl_fops,
	.mode = 0600,
};

int vxe_ctl_register(void)
{
	return misc_register(&vxe_ctl_misc);
}

void vxe_ctl_unregister(void)
{
	misc_deregister(&vxe_ctl_misc);
}
