/*
 * loss_sequence: what a program sees when a notification ring overflows.
 *
 * Creates VMS restartable LR VMs on one DRM file and subscribes a one-page
 * notification pipe (32 notes); a fault script (enomem_on_watch.textproto)
 * fails every VM's next rebind once the file subscribes. To know that every
 * one of those failures has been posted, it then subscribes a second file
 * with one VM (a sentinel) and waits for the sentinel's VM_ERR on its own
 * pipe: the rebind worker runs in order, so the first file's VMS errors are
 * all in (or dropped) by then. It reads the first pipe the way the kernel
 * answers it:
 *   read #1   the 32 oldest VM_ERR records, nothing else;
 *   poll      0: the loss record is owed, but poll() does not show it;
 *   FIONREAD  0: it counts queued records only;
 *   read 4 B  ENOBUFS: the owed loss record does not fit, and stays owed;
 *   read #2   the 8-byte loss record, made up by read();
 *   read #3   EAGAIN.
 * Prints each answer and exits 0 only if all of them are the kernel's.
 *
 *   xehil sim-run --script=enomem_on_watch.textproto -- loss_sequence [VMS]
 *
 * With `--read-once` after VMS it stops after read #1, as a listener that
 * reads once per POLLIN would, leaving the loss record unread (sim-run says
 * so).
 *
 * The same binary runs under `xehil sim-run` (interposer) and `xehil vm-run`
 * (the real kernel's pipes): the differential check of the simulator.
 * Plain C11 and the UAPI header, like restart_on_enomem.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/uapi/xe_uapi.h"

#define RING_RECORDS 32

static int xe_ioctl(int fd, unsigned long request, void *arg) {
  int rc;
  do {
    rc = ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

static int fail(const char *what, int err) {
  fprintf(stderr, "loss_sequence: %s: %s\n", what, strerror(-err));
  return 1;
}

/* A restartable LR VM with a 4 MiB system-memory buffer bound: a rebind has
 * something to place. */
static int create_vm(int fd) {
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  int rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create);
  if (rc != 0) return rc;
  struct drm_xe_gem_create bo;
  memset(&bo, 0, sizeof(bo));
  bo.size = 4u << 20;
  bo.placement = 1u; /* instance 0: system memory */
  bo.vm_id = create.vm_id;
  bo.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
  rc = xe_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &bo);
  if (rc != 0) return rc;
  struct drm_xe_vm_bind bind;
  memset(&bind, 0, sizeof(bind));
  bind.vm_id = create.vm_id;
  bind.num_binds = 1;
  bind.bind.obj = bo.handle;
  bind.bind.addr = 1u << 20;
  bind.bind.range = bo.size;
  bind.bind.op = DRM_XE_VM_BIND_OP_MAP;
  return xe_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &bind);
}

/* A one-page notification pipe subscribed to `drm`. */
static int subscribe(int drm, int fds[2]) {
  if (pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC | O_NONBLOCK) != 0)
    return -errno;
  if (ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 1) != 0) return -errno;
  struct drm_xe_watch_queue watch;
  memset(&watch, 0, sizeof(watch));
  watch.fd = (uint32_t)fds[0];
  return xe_ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &watch);
}

static int is_loss(const unsigned char *record) {
  struct watch_notification head;
  memcpy(&head, record, sizeof(head));
  return head.type == WATCH_TYPE_META &&
         head.subtype == WATCH_META_LOSS_NOTIFICATION && head.info == 8;
}

int main(int argc, char **argv) {
  const int vms = argc > 1 ? atoi(argv[1]) : 40;
  if (vms <= RING_RECORDS) {
    fprintf(stderr, "loss_sequence: need more than %d VMs to overflow\n",
            RING_RECORDS);
    return 2;
  }
  int fd = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail("/dev/dri/renderD128", -errno);
  int sentinel = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  if (sentinel < 0) return fail("/dev/dri/renderD128", -errno);
  for (int i = 0; i < vms; ++i) {
    int rc = create_vm(fd);
    if (rc != 0) return fail("restartable LR VM with a bound buffer", rc);
  }
  int rc = create_vm(sentinel);
  if (rc != 0) return fail("sentinel VM", rc);
  int fds[2], sentinel_fds[2];
  rc = subscribe(fd, fds);
  if (rc != 0) return fail("notification pipe", rc);
  rc = subscribe(sentinel, sentinel_fds);
  if (rc != 0) return fail("sentinel's notification pipe", rc);
  printf("subscribed %d VMs and a sentinel\n", vms);
  fflush(stdout);
  struct pollfd sentinel_poll = {.fd = sentinel_fds[0], .events = POLLIN};
  if (poll(&sentinel_poll, 1, 20000) != 1)
    return fail("waiting for the sentinel's VM_ERR", -ETIMEDOUT);

  int ok = 1;
  static unsigned char buf[64 * 1024];
  const ssize_t record =
      (ssize_t)sizeof(struct drm_xe_watch_notification_vm_err);
  ssize_t n = read(fds[0], buf, sizeof(buf));
  printf("read #1: %zd bytes\n", n);
  ok &= n == RING_RECORDS * record;
  if (argc > 2 && strcmp(argv[2], "--read-once") == 0) {
    printf("stopping after one read\n");
    return ok ? 0 : 1;
  }

  struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
  int polled = poll(&pfd, 1, 0);
  printf("poll: %d\n", polled);
  ok &= polled == 0;

  int queued = -1;
  if (ioctl(fds[0], FIONREAD, &queued) != 0) queued = -errno;
  printf("FIONREAD: %d\n", queued);
  ok &= queued == 0;

  n = read(fds[0], buf, 4);
  const int small_err = n < 0 ? errno : 0;
  printf("read into 4 bytes: %zd (%s)\n", n,
         n < 0 ? strerror(small_err) : "data");
  ok &= n == -1 && small_err == ENOBUFS;

  n = read(fds[0], buf, sizeof(buf));
  printf("read #2: %zd bytes%s\n", n, n == 8 && is_loss(buf) ? " (loss)" : "");
  ok &= n == 8 && is_loss(buf);

  n = read(fds[0], buf, sizeof(buf));
  const int err = n < 0 ? errno : 0;
  printf("read #3: %zd (%s)\n", n, n < 0 ? strerror(err) : "data");
  ok &= n == -1 && err == EAGAIN;

  printf("%s\n", ok ? "kernel sequence: yes" : "kernel sequence: NO");
  close(fds[1]);
  close(fds[0]);
  close(sentinel_fds[1]);
  close(sentinel_fds[0]);
  close(sentinel);
  close(fd);
  return ok ? 0 : 1;
}
