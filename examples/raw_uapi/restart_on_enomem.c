/*
 * restart_on_enomem: recovery logic written straight against the xe UAPI,
 * the way field code and IGT helpers are written. Nothing here knows about
 * xehil except the UAPI header: run it on a real xe kernel with the proposed
 * watch-queue interface, or unchanged on the simulator:
 *
 *   xehil sim-run --script=examples/raw_uapi/enomem_on_watch.textproto \
 *       -- restart_on_enomem [/dev/dri/renderD128]
 *
 * It creates a restartable long-running VM with one bound VRAM buffer,
 * subscribes a filtered notification pipe to its DRM file, waits for a
 * VM_ERR record carrying -ENOMEM, restarts the VM with the record's
 * timestamp, and checks that the VM runs again (a second restart answers
 * EALREADY: nothing is paused). Exit 0 when recovered, 1 otherwise.
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

#define WATCH_ID 7
#define WAIT_MS 10000

static int xe_ioctl(int fd, unsigned long request, void *arg) {
  int rc;
  do {
    rc = ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

static int fail(const char *what, int err) {
  fprintf(stderr, "restart_on_enomem: %s: %s\n", what, strerror(-err));
  return 1;
}

/* The driver must be xe. */
static int check_driver(int fd) {
  char name[16] = {0};
  struct drm_version version;
  memset(&version, 0, sizeof(version));
  version.name = name;
  version.name_len = sizeof(name) - 1;
  int rc = xe_ioctl(fd, DRM_IOCTL_VERSION, &version);
  if (rc != 0) return rc;
  if (strcmp(name, "xe") != 0) {
    fprintf(stderr, "restart_on_enomem: driver is '%s', not xe\n", name);
    return -ENODEV;
  }
  return 0;
}

/* Instance bit of the first VRAM region, or of system memory on an iGPU. */
static int placement_for_buffers(int fd, uint32_t *placement) {
  struct drm_xe_device_query query;
  memset(&query, 0, sizeof(query));
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  int rc = xe_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  if (rc != 0) return rc;
  struct drm_xe_query_mem_regions *regions = calloc(1, query.size);
  if (regions == NULL) return -ENOMEM;
  query.data = (uintptr_t)regions;
  rc = xe_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  if (rc == 0) {
    *placement = 1u << regions->mem_regions[0].instance;
    for (uint32_t i = 0; i < regions->num_mem_regions; ++i) {
      if (regions->mem_regions[i].mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) {
        *placement = 1u << regions->mem_regions[i].instance;
        break;
      }
    }
  }
  free(regions);
  return rc;
}

static int create_vm_with_buffer(int fd, uint32_t *vm_id) {
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  int rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create);
  if (rc != 0) return rc;
  *vm_id = create.vm_id;

  uint32_t placement = 0;
  rc = placement_for_buffers(fd, &placement);
  if (rc != 0) return rc;
  struct drm_xe_gem_create bo;
  memset(&bo, 0, sizeof(bo));
  bo.size = 4u << 20;
  bo.placement = placement;
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

/* A notification pipe that passes only xe VM_ERR records (meta records
 * always pass), subscribed to `drm_fd`. Both ends stay open: the kernel is
 * not a writer, so closing ours would make poll() report POLLHUP at once. */
static int subscribe(int drm_fd, int fds[2]) {
  if (pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC) != 0) return -errno;
  if (ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32) != 0) return -errno;

  char storage[sizeof(struct watch_notification_filter) +
               sizeof(struct watch_notification_type_filter)];
  memset(storage, 0, sizeof(storage));
  struct watch_notification_filter *filter = (void *)storage;
  filter->nr_filters = 1;
  filter->filters[0].type = WATCH_TYPE_DRM_XE_NOTIFY;
  filter->filters[0].subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  if (ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, filter) != 0) return -errno;

  struct drm_xe_watch_queue watch;
  memset(&watch, 0, sizeof(watch));
  watch.fd = (uint32_t)fds[0];
  watch.watch_id = WATCH_ID;
  return xe_ioctl(drm_fd, DRM_IOCTL_XE_WATCH_QUEUE, &watch);
}

/* Blocks for the next VM_ERR of `vm_id`; 0 and its fields, or -errno
 * (-ETIMEDOUT, -EPIPE when the watch was removed). */
static int wait_vm_err(int pipe_fd, uint32_t vm_id,
                       struct drm_xe_watch_notification_vm_err *out) {
  unsigned char buf[512];
  for (;;) {
    struct pollfd pfd = {.fd = pipe_fd, .events = POLLIN};
    int n = poll(&pfd, 1, WAIT_MS);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) return -ETIMEDOUT;
    ssize_t len = read(pipe_fd, buf, sizeof(buf));
    if (len < 0) return errno == EINTR ? 0 : -errno;
    if (len == 0) return -EPIPE;
    for (ssize_t at = 0; at + 8 <= len;) {
      struct watch_notification head;
      memcpy(&head, buf + at, sizeof(head));
      size_t size = head.info & WATCH_INFO_LENGTH;
      if (size < 8 || at + (ssize_t)size > len) return -EPROTO;
      if (head.type == WATCH_TYPE_META &&
          head.subtype == WATCH_META_REMOVAL_NOTIFICATION)
        return -EPIPE;
      if (head.type == WATCH_TYPE_DRM_XE_NOTIFY &&
          head.subtype == DRM_XE_WATCH_EVENT_VM_ERR && size >= sizeof(*out)) {
        memcpy(out, buf + at, sizeof(*out));
        if (out->vm_id == vm_id) return 0;
      }
      at += (ssize_t)size;
    }
  }
}

int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "/dev/dri/renderD128";
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(path, -errno);
  int rc = check_driver(fd);
  if (rc != 0) return fail("DRM_IOCTL_VERSION", rc);

  uint32_t vm_id = 0;
  rc = create_vm_with_buffer(fd, &vm_id);
  if (rc != 0) return fail("restartable LR VM with a bound buffer", rc);
  int fds[2];
  rc = subscribe(fd, fds);
  if (rc != 0) return fail("notification pipe", rc);
  printf("vm %u ready, watching\n", vm_id);
  fflush(stdout);

  struct drm_xe_watch_notification_vm_err err;
  rc = wait_vm_err(fds[0], vm_id, &err);
  if (rc != 0) return fail("waiting for VM_ERR", rc);
  printf("VM_ERR vm=%u error=%d (%s)\n", err.vm_id, err.error_code,
         strerror(-err.error_code));
  if (err.error_code != -ENOMEM)
    return fail("unexpected VM error", err.error_code);

  struct drm_xe_vm_restart restart;
  memset(&restart, 0, sizeof(restart));
  restart.vm_id = vm_id;
  restart.timestamp_ns = err.timestamp_ns;
  int tries = 0;
  do {
    rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart);
  } while (rc == -EAGAIN && ++tries < 10);
  if (rc != 0) return fail("DRM_IOCTL_XE_VM_RESTART", rc);

  /* Restarting a running VM is refused with EALREADY: proof it recovered. */
  rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart);
  if (rc != -EALREADY) return fail("VM still paused after restart", rc);
  printf("vm %u recovered\n", vm_id);
  close(fds[1]);
  close(fds[0]);
  close(fd);
  return 0;
}
