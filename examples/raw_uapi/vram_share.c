/*
 * vram_share: two processes sharing one GPU's VRAM, written against the raw
 * xe UAPI like restart_on_enomem.c.
 *
 *   vram_share workload [NODE]  restartable LR VM with buffers in VRAM; on
 *                               each VM_ERR it backs off and restarts the VM
 *                               until a restart sticks; exit 0 once recovered.
 *   vram_share hog [NODE]       fills VRAM with buffers (evicting other
 *                               processes' long-running VMs, as TTM does),
 *                               holds them until SIGTERM/SIGINT, then exits
 *                               and so frees them.
 *
 * Under `xehil sim-run --socket=...` both share one simulated device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "core/uapi/xe_uapi.h"

#define MIB (1ull << 20)
#define WORKLOAD_BUFFERS 4
#define GIVE_UP_MS 30000

static int xe_ioctl(int fd, unsigned long request, void *arg) {
  int rc;
  do {
    rc = ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

static int fail(const char *who, const char *what, int err) {
  fprintf(stderr, "vram_share %s: %s: %s\n", who, what, strerror(-err));
  return 1;
}

/* The first VRAM region (instance bit and size); -ENODEV without VRAM. */
static int find_vram(int fd, uint32_t *placement, uint64_t *total) {
  struct drm_xe_device_query query;
  memset(&query, 0, sizeof(query));
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  int rc = xe_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  if (rc != 0) return rc;
  struct drm_xe_query_mem_regions *regions = calloc(1, query.size);
  if (regions == NULL) return -ENOMEM;
  query.data = (uintptr_t)regions;
  rc = xe_ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query);
  int found = -ENODEV;
  for (uint32_t i = 0; rc == 0 && i < regions->num_mem_regions; ++i) {
    const struct drm_xe_mem_region *region = &regions->mem_regions[i];
    if (region->mem_class == DRM_XE_MEM_REGION_CLASS_VRAM) {
      *placement = 1u << region->instance;
      *total = region->total_size;
      found = 0;
      break;
    }
  }
  free(regions);
  return rc != 0 ? rc : found;
}

static int create_bo(int fd, uint32_t placement, uint64_t size, uint32_t vm_id,
                     uint32_t *handle) {
  struct drm_xe_gem_create bo;
  memset(&bo, 0, sizeof(bo));
  bo.size = size;
  bo.placement = placement;
  bo.vm_id = vm_id;
  bo.cpu_caching = DRM_XE_GEM_CPU_CACHING_WC;
  int rc = xe_ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &bo);
  *handle = bo.handle;
  return rc;
}

static volatile sig_atomic_t stop_requested;
static void on_stop(int signo) {
  (void)signo;
  stop_requested = 1;
}

static int hog(int fd) {
  uint32_t placement = 0;
  uint64_t total = 0;
  int rc = find_vram(fd, &placement, &total);
  if (rc != 0) return fail("hog", "finding VRAM", rc);
  uint64_t held = 0;
  const uint64_t chunk = 256 * MIB;
  for (;;) {
    uint32_t handle = 0;
    rc = create_bo(fd, placement, chunk, 0, &handle);
    if (rc == -ENOSPC || rc == -ENOMEM) break;
    if (rc != 0) return fail("hog", "DRM_IOCTL_XE_GEM_CREATE", rc);
    held += chunk;
  }
  printf("hog holding %llu MiB of %llu MiB VRAM\n",
         (unsigned long long)(held / MIB), (unsigned long long)(total / MIB));
  fflush(stdout);
  while (!stop_requested) pause();
  printf("hog releasing\n");
  return 0;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup_workload(int fd, uint32_t *vm_id, int pipe_fds[2]) {
  uint32_t placement = 0;
  uint64_t total = 0;
  int rc = find_vram(fd, &placement, &total);
  if (rc != 0) return rc;
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  if ((rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create)) != 0) return rc;
  *vm_id = create.vm_id;
  for (int i = 0; i < WORKLOAD_BUFFERS; ++i) {
    uint32_t handle = 0;
    if ((rc = create_bo(fd, placement, 64 * MIB, *vm_id, &handle)) != 0)
      return rc;
    struct drm_xe_vm_bind bind;
    memset(&bind, 0, sizeof(bind));
    bind.vm_id = *vm_id;
    bind.num_binds = 1;
    bind.bind.obj = handle;
    bind.bind.addr = (uint64_t)(i + 1) * 128 * MIB;
    bind.bind.range = 64 * MIB;
    bind.bind.op = DRM_XE_VM_BIND_OP_MAP;
    if ((rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_BIND, &bind)) != 0) return rc;
  }
  if (pipe2(pipe_fds, O_NOTIFICATION_PIPE | O_CLOEXEC) != 0) return -errno;
  if (ioctl(pipe_fds[0], IOC_WATCH_QUEUE_SET_SIZE, 64) != 0) return -errno;
  struct drm_xe_watch_queue watch;
  memset(&watch, 0, sizeof(watch));
  watch.fd = (uint32_t)pipe_fds[0];
  watch.watch_id = 1;
  return xe_ioctl(fd, DRM_IOCTL_XE_WATCH_QUEUE, &watch);
}

/* Reads records until one is a VM_ERR for `vm_id`; its errno, or -errno. */
static int next_vm_error(int pipe_fd, uint32_t vm_id, int timeout_ms) {
  unsigned char buf[1024];
  struct pollfd pfd = {.fd = pipe_fd, .events = POLLIN};
  int n = poll(&pfd, 1, timeout_ms);
  if (n < 0) return -errno;
  if (n == 0) return -ETIMEDOUT;
  ssize_t len = read(pipe_fd, buf, sizeof(buf));
  if (len <= 0) return len == 0 ? -EPIPE : -errno;
  int found = -EAGAIN;
  for (ssize_t at = 0; at + 8 <= len;) {
    struct watch_notification head;
    memcpy(&head, buf + at, sizeof(head));
    size_t size = head.info & WATCH_INFO_LENGTH;
    if (size < 8) return -EPROTO;
    struct drm_xe_watch_notification_vm_err err;
    if (head.type == WATCH_TYPE_DRM_XE_NOTIFY && size >= sizeof(err)) {
      memcpy(&err, buf + at, sizeof(err));
      if (err.vm_id == vm_id) found = err.error_code;
    }
    at += (ssize_t)size;
  }
  return found;
}

static int workload(int fd) {
  uint32_t vm_id = 0;
  int fds[2];
  int rc = setup_workload(fd, &vm_id, fds);
  if (rc != 0) return fail("workload", "setup", rc);
  printf("workload vm %u ready\n", vm_id);
  fflush(stdout);

  const uint64_t deadline = now_ms() + GIVE_UP_MS;
  unsigned backoff_ms = 10;
  unsigned errors = 0;
  while (now_ms() < deadline) {
    int error = next_vm_error(fds[0], vm_id, (int)(deadline - now_ms()));
    if (error == -EAGAIN) continue; /* records for other VMs only */
    if (error == -ETIMEDOUT || error == -EPIPE || error > 0)
      return fail("workload", "waiting for VM_ERR", error);
    ++errors;
    printf("workload VM_ERR vm=%u error=%d (%s)\n", vm_id, error,
           strerror(-error));
    fflush(stdout);
    usleep(backoff_ms * 1000); /* policy: back off before restarting */
    if (backoff_ms < 200) backoff_ms *= 2;
    struct drm_xe_vm_restart restart;
    memset(&restart, 0, sizeof(restart));
    restart.vm_id = vm_id;
    rc = xe_ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart);
    if (rc != 0 && rc != -EAGAIN) return fail("workload", "VM_RESTART", rc);
    /* The restart ran the rebind synchronously: EALREADY now means it ran. */
    if (xe_ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart) == -EALREADY) {
      printf("workload vm %u recovered after %u errors\n", vm_id, errors);
      return 0;
    }
  }
  return fail("workload", "no recovery before the deadline", -ETIMEDOUT);
}

int main(int argc, char **argv) {
  if (argc < 2 ||
      (strcmp(argv[1], "hog") != 0 && strcmp(argv[1], "workload") != 0)) {
    fprintf(stderr, "usage: vram_share hog|workload [/dev/dri/renderD128]\n");
    return 2;
  }
  const char *path = argc > 2 ? argv[2] : "/dev/dri/renderD128";
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_stop;
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return fail(argv[1], path, -errno);
  int rc = strcmp(argv[1], "hog") == 0 ? hog(fd) : workload(fd);
  close(fd);
  return rc;
}
