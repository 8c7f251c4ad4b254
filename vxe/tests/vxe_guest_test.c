/*
 * vxe_guest_test: checks the vxe driver from inside the test VM, through the
 * real render node and real notification pipes. Plain C11 and the UAPI
 * headers, so it links statically. One mode per run:
 *
 *   vxe_guest_test served  xehil-simd --vxe_control serves the device with
 *                          examples/raw_uapi/enomem_on_watch.textproto
 *   vxe_guest_test ctl     nobody holds /dev/vxe_ctl: this program plays the
 *                          device model itself, byte for byte
 *   vxe_guest_test absent  no device model at all
 *
 * Prints "ok N - what" per check; a failed check prints where and why and
 * exits 1. Exit 0 when every check passed, 2 on a usage error.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/uapi/xe_uapi.h"
#include "vxe/driver/vxe_ctl.h"

#define RENDER_NODE "/dev/dri/renderD128"
#define CTL_NODE "/dev/" VXE_CTL_NAME
#define WAIT_MS 10000

static int checks;

static void check_concurrent_callers(void);

#define FAIL(...)                                           \
  do {                                                      \
    fprintf(stderr, "not ok: %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                           \
    fprintf(stderr, "\n");                                  \
    exit(1);                                                \
  } while (0)

/* `got` (an int expression) must equal `want`; prints "ok". */
#define EXPECT_EQ(got, want, what)                                       \
  do {                                                                   \
    long got_ = (long)(got), want_ = (long)(want);                       \
    if (got_ != want_) FAIL("%s: got %ld, want %ld", what, got_, want_); \
    printf("ok %d - %s\n", ++checks, what);                              \
  } while (0)

static int xe_ioctl(int fd, unsigned long request, void *arg) {
  int rc;
  do {
    rc = ioctl(fd, request, arg);
  } while (rc == -1 && errno == EINTR);
  return rc == 0 ? 0 : -errno;
}

static int open_render(void) {
  int fd = open(RENDER_NODE, O_RDWR | O_CLOEXEC);
  if (fd < 0) FAIL("open %s: %s", RENDER_NODE, strerror(errno));
  return fd;
}

/* A sized notification pipe; fds[1] stays open so EOF never hides records. */
static void notification_pipe(int fds[2]) {
  if (pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC) != 0)
    FAIL("pipe2(O_NOTIFICATION_PIPE): %s", strerror(errno));
  if (ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32) != 0)
    FAIL("IOC_WATCH_QUEUE_SET_SIZE: %s", strerror(errno));
}

static int watch(int drm, int fd, uint32_t id) {
  struct drm_xe_watch_queue w;
  memset(&w, 0, sizeof(w));
  w.fd = (uint32_t)fd;
  w.watch_id = id;
  return xe_ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w);
}

/* Reads one batch of records (waits up to WAIT_MS); returns its length. */
static int read_records(int fd, uint8_t *buf, size_t size) {
  struct pollfd p = {fd, POLLIN, 0};
  if (poll(&p, 1, WAIT_MS) != 1) FAIL("no record within %d ms", WAIT_MS);
  ssize_t n = read(fd, buf, size);
  if (n < 0) FAIL("read from the notification pipe: %s", strerror(errno));
  return (int)n;
}

static void expect_removal(int fd, uint32_t id) {
  uint8_t buf[128];
  struct watch_notification n;
  EXPECT_EQ(read_records(fd, buf, sizeof(buf)), 8, "removal record is 8 bytes");
  memcpy(&n, buf, sizeof(n));
  EXPECT_EQ(n.type, WATCH_TYPE_META, "removal record type META");
  EXPECT_EQ(n.subtype, WATCH_META_REMOVAL_NOTIFICATION,
            "removal record subtype REMOVAL");
  EXPECT_EQ(n.info, 8 | (id << 8), "removal info: length 8 and the watch id");
}

static void check_driver_name(int drm) {
  char name[16] = {0};
  struct drm_version v;
  memset(&v, 0, sizeof(v));
  v.name = name;
  v.name_len = sizeof(name) - 1;
  EXPECT_EQ(xe_ioctl(drm, DRM_IOCTL_VERSION, &v), 0, "DRM_IOCTL_VERSION");
  EXPECT_EQ(strcmp(name, "xe"), 0, "driver name is xe");
}

static int create_vm(int drm, uint32_t flags, uint32_t *vm) {
  struct drm_xe_vm_create c;
  memset(&c, 0, sizeof(c));
  c.flags = flags;
  int rc = xe_ioctl(drm, DRM_IOCTL_XE_VM_CREATE, &c);
  *vm = c.vm_id;
  return rc;
}

static int restart_vm(int drm, uint32_t vm, uint64_t timestamp) {
  struct drm_xe_vm_restart r;
  memset(&r, 0, sizeof(r));
  r.vm_id = vm;
  r.timestamp_ns = timestamp;
  return xe_ioctl(drm, DRM_IOCTL_XE_VM_RESTART, &r);
}

static void check_watch_validation(int drm, int notify_fd) {
  struct drm_xe_watch_queue w;
  int plain[2];
  memset(&w, 0, sizeof(w));
  w.fd = (uint32_t)notify_fd;
  w.flags = 1;
  EXPECT_EQ(xe_ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), -EINVAL,
            "WATCH_QUEUE flags != 0: EINVAL");
  w.flags = 0;
  w.pad = 1;
  EXPECT_EQ(xe_ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), -EINVAL,
            "WATCH_QUEUE pad != 0: EINVAL");
  EXPECT_EQ(watch(drm, notify_fd, 256), -EINVAL, "watch_id 256: EINVAL");
  if (pipe2(plain, O_CLOEXEC) != 0) FAIL("pipe2: %s", strerror(errno));
  EXPECT_EQ(watch(drm, plain[0], 1), -EINVAL,
            "an ordinary pipe is not a notification pipe: EINVAL");
  EXPECT_EQ(watch(drm, -1, 1), -EINVAL, "fd -1: EINVAL");
  close(plain[0]);
  close(plain[1]);
}

/* xehil-simd serves the device with enomem_on_watch.textproto. */
static int run_served(void) {
  const uint32_t restartable =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  uint8_t buf[256];
  struct drm_xe_watch_notification_vm_err rec;
  int pipe_fds[2];
  uint32_t vm = 0;
  int drm = open_render();

  check_driver_name(drm);
  EXPECT_EQ(create_vm(drm, restartable, &vm), 0, "restartable LR VM_CREATE");
  EXPECT_EQ(vm, 1, "first VM id is 1");
  EXPECT_EQ(create_vm(drm, 1u << 31, &vm), -EINVAL,
            "VM_CREATE unknown flag: EINVAL from the model");
  notification_pipe(pipe_fds);
  check_watch_validation(drm, pipe_fds[0]);
  /* The script fails the next rebind with -ENOMEM once this succeeds. */
  EXPECT_EQ(watch(drm, pipe_fds[0], 7), 0, "WATCH_QUEUE id 7");
  EXPECT_EQ(watch(drm, pipe_fds[0], 8), -EBUSY, "the same pipe twice: EBUSY");
  EXPECT_EQ(read_records(pipe_fds[0], buf, sizeof(buf)), (int)sizeof(rec),
            "one 24-byte VM_ERR record");
  memcpy(&rec, buf, sizeof(rec));
  EXPECT_EQ(rec.base.type, WATCH_TYPE_DRM_XE_NOTIFY, "record type xe");
  EXPECT_EQ(rec.base.subtype, DRM_XE_WATCH_EVENT_VM_ERR, "subtype VM_ERR");
  EXPECT_EQ(rec.base.info, 24 | (7 << 8), "info: length 24, watch id 7");
  EXPECT_EQ(rec.vm_id, 1, "record names VM 1");
  EXPECT_EQ(rec.error_code, -ENOMEM, "record carries -ENOMEM");
  EXPECT_EQ(rec.timestamp_ns != 0, 1, "record has a timestamp");
  EXPECT_EQ(restart_vm(drm, 1, rec.timestamp_ns), 0, "VM_RESTART recovers");
  EXPECT_EQ(restart_vm(drm, 1, 0), -EALREADY, "VM_RESTART again: EALREADY");
  close(drm);
  expect_removal(pipe_fds[0], 7);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  check_concurrent_callers();
  return 0;
}

/* Without a device model: forwarded ioctls fail at once, the kernel's own
 * parts (version, watches, removal) still work. */
static int run_absent(void) {
  int pipe_fds[2];
  uint32_t vm = 0;
  struct timespec t0, t1;
  int drm = open_render();

  check_driver_name(drm);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  EXPECT_EQ(create_vm(drm, 0, &vm), -ENODEV, "VM_CREATE without model: ENODEV");
  clock_gettime(CLOCK_MONOTONIC, &t1);
  EXPECT_EQ(t1.tv_sec - t0.tv_sec < 2, 1, "... at once");
  struct drm_gem_close gem_close = {1, 0};
  EXPECT_EQ(xe_ioctl(drm, DRM_IOCTL_GEM_CLOSE, &gem_close), -ENODEV,
            "GEM_CLOSE without model: ENODEV");
  notification_pipe(pipe_fds);
  EXPECT_EQ(watch(drm, pipe_fds[0], 3), 0, "WATCH_QUEUE works in the kernel");
  close(drm);
  expect_removal(pipe_fds[0], 3);
  return 0;
}

static void ctl_read(int ctl, struct vxe_ctl_event *ev, uint32_t type) {
  struct pollfd p = {ctl, POLLIN, 0};
  if (poll(&p, 1, WAIT_MS) != 1) FAIL("no control event within %d ms", WAIT_MS);
  EXPECT_EQ(read(ctl, ev, sizeof(*ev)), (long)sizeof(*ev),
            "one event per read");
  EXPECT_EQ(ev->type, type, "event type");
}

static int ctl_reply(int ctl, const struct vxe_ctl_event *ev, int result,
                     uint32_t arg_size) {
  struct vxe_ctl_reply r;
  memset(&r, 0, sizeof(r));
  r.type = VXE_CTL_CMD_REPLY;
  r.result = result;
  r.seq = ev->seq;
  r.arg_size = arg_size;
  memcpy(r.arg, ev->arg, ev->arg_size);
  return write(ctl, &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : -errno;
}

static int ctl_post(int ctl, uint64_t file, const void *rec, uint32_t size) {
  struct vxe_ctl_post p;
  memset(&p, 0, sizeof(p));
  p.type = VXE_CTL_CMD_POST;
  p.file_id = file;
  p.size = size;
  memcpy(p.record, rec, size);
  return write(ctl, &p, sizeof(p)) == (ssize_t)sizeof(p) ? 0 : -errno;
}

/* The client half of run_ctl, in a child: exit status = failed step. */
static void ctl_client(int ctl, int ready_fd) {
  int pipe_fds[2];
  uint32_t vm = 0;
  uint8_t buf[128];
  close(ctl); /* the parent's close must be the device model's last */
  int drm = open_render(); /* blocks until OPEN is answered */
  notification_pipe(pipe_fds);
  if (watch(drm, pipe_fds[0], 5) != 0) _exit(10);
  if (create_vm(drm, 0, &vm) != -EIO) _exit(11); /* malformed reply */
  if (write(ready_fd, "x", 1) != 1) _exit(12);
  if (create_vm(drm, 0, &vm) != -ENODEV) _exit(13); /* model goes away */
  if (read_records(pipe_fds[0], buf, sizeof(buf)) != 24) _exit(14);
  struct drm_xe_watch_notification_vm_err rec;
  memcpy(&rec, buf, sizeof(rec));
  if (rec.base.info != (24 | (5 << 8)) || rec.vm_id != 77) _exit(15);
  _exit(0);
}

/* A caller killed while the model holds its ioctl dies at once; the model's
 * late reply is refused. */
static void check_killed_caller(int ctl) {
  struct vxe_ctl_event ev;
  int status = 0;
  pid_t victim = fork();
  if (victim == 0) {
    uint32_t vm = 0;
    close(ctl);
    int drm = open_render();
    create_vm(drm, 0, &vm);
    _exit(3);
  }
  ctl_read(ctl, &ev, VXE_CTL_EVENT_OPEN);
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 0), 0, "victim's OPEN answered");
  const uint64_t file = ev.file_id;
  ctl_read(ctl, &ev, VXE_CTL_EVENT_IOCTL);
  EXPECT_EQ(ev.pid, victim, "victim's VM_CREATE is held");
  struct vxe_ctl_event held = ev;
  kill(victim, SIGKILL);
  /* Its exit releases the file and waits for the model, as any close. */
  ctl_read(ctl, &ev, VXE_CTL_EVENT_RELEASE);
  EXPECT_EQ(ev.file_id, file, "the victim's file is released");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 0), 0, "the victim's RELEASE answered");
  if (waitpid(victim, &status, 0) != victim)
    FAIL("waitpid: %s", strerror(errno));
  EXPECT_EQ(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, 1,
            "a caller blocked in an ioctl is killable");
  EXPECT_EQ(ctl_reply(ctl, &held, 0, held.arg_size), -ENOENT,
            "the reply to a killed caller: ENOENT");
}

/* close() returns once the model answered RELEASE, as xe's postclose
 * destroys the file's objects before close() returns. */
static void check_close_waits_for_release(int ctl) {
  struct vxe_ctl_event ev;
  int status = 0;
  pid_t closer = fork();
  if (closer == 0) {
    close(ctl);
    close(open_render());
    _exit(0);
  }
  ctl_read(ctl, &ev, VXE_CTL_EVENT_OPEN);
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 0), 0, "the closer's OPEN answered");
  ctl_read(ctl, &ev, VXE_CTL_EVENT_RELEASE);
  EXPECT_EQ(ev.seq != 0, 1, "RELEASE wants a reply");
  EXPECT_EQ(waitpid(closer, &status, WNOHANG), 0,
            "close() waits for the RELEASE reply");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 0), 0, "RELEASE answered");
  if (waitpid(closer, &status, 0) != closer) FAIL("waitpid: %s", strerror(errno));
  EXPECT_EQ(WIFEXITED(status) && WEXITSTATUS(status) == 0, 1,
            "the closer exits once answered");
}

/* Several processes at once, on both vCPUs: every ioctl gets its own reply. */
static void check_concurrent_callers(void) {
  enum { kProcs = 4, kRounds = 100 };
  pid_t pids[kProcs];
  int failed = 0;
  for (int p = 0; p < kProcs; ++p) {
    pids[p] = fork();
    if (pids[p] != 0) continue;
    int drm = open_render();
    for (int i = 0; i < kRounds; ++i) {
      struct drm_xe_vm_destroy d;
      uint32_t vm = 0;
      if (create_vm(drm, 0, &vm) != 0 || vm != 1) _exit(1);
      memset(&d, 0, sizeof(d));
      d.vm_id = vm;
      if (xe_ioctl(drm, DRM_IOCTL_XE_VM_DESTROY, &d) != 0) _exit(2);
    }
    _exit(0);
  }
  for (int p = 0; p < kProcs; ++p) {
    int status = 0;
    if (waitpid(pids[p], &status, 0) != pids[p] || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0)
      ++failed;
  }
  EXPECT_EQ(failed, 0, "4 processes x 100 VM create/destroy, concurrently");
}

/* This process is the device model. */
static int run_ctl(void) {
  struct vxe_ctl_event ev;
  struct drm_xe_watch_notification_vm_err rec;
  int ready[2], status = 0;
  char c;
  int ctl = open(CTL_NODE, O_RDWR | O_CLOEXEC);
  if (ctl < 0) FAIL("open %s: %s", CTL_NODE, strerror(errno));
  EXPECT_EQ(open(CTL_NODE, O_RDWR) < 0 ? -errno : 0, -EBUSY,
            "a second device model: EBUSY");
  if (pipe(ready) != 0) FAIL("pipe: %s", strerror(errno));
  pid_t child = fork();
  if (child == 0) ctl_client(ctl, ready[1]);

  ctl_read(ctl, &ev, VXE_CTL_EVENT_OPEN);
  EXPECT_EQ(ev.pid, child, "OPEN names the opener");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 0), 0, "OPEN answered");
  const uint64_t file = ev.file_id;
  ctl_read(ctl, &ev, VXE_CTL_EVENT_WATCHED);
  EXPECT_EQ(ev.request, DRM_IOCTL_XE_WATCH_QUEUE, "WATCHED carries the ioctl");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, ev.arg_size), 0, "WATCHED answered");

  memset(&rec, 0, sizeof(rec));
  rec.base.type = WATCH_TYPE_DRM_XE_NOTIFY;
  rec.base.subtype = DRM_XE_WATCH_EVENT_VM_ERR;
  rec.base.info = 16;
  rec.vm_id = 77;
  EXPECT_EQ(ctl_post(ctl, file, &rec, sizeof(rec)), -EINVAL,
            "POST whose length bits disagree: EINVAL");
  rec.base.info = sizeof(rec);
  EXPECT_EQ(ctl_post(ctl, file + 1000, &rec, sizeof(rec)), -ENOENT,
            "POST for a file that is not open: ENOENT");
  rec.base.type = WATCH_TYPE_META;
  EXPECT_EQ(ctl_post(ctl, file, &rec, sizeof(rec)), -EINVAL,
            "POST of a meta record: EINVAL");
  rec.base.type = WATCH_TYPE_DRM_XE_NOTIFY;
  EXPECT_EQ(ctl_post(ctl, file, &rec, sizeof(rec)), 0, "POST a VM_ERR");

  ctl_read(ctl, &ev, VXE_CTL_EVENT_IOCTL);
  EXPECT_EQ(ev.request, DRM_IOCTL_XE_VM_CREATE, "IOCTL carries the request");
  EXPECT_EQ(ev.arg_size, sizeof(struct drm_xe_vm_create), "... and its size");
  EXPECT_EQ(ev.pid, child, "... and the caller");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, 8), -EINVAL, "reply of the wrong size");
  EXPECT_EQ(ctl_reply(ctl, &ev, 0, ev.arg_size), -ENOENT,
            "a second reply: ENOENT");
  if (read(ready[0], &c, 1) != 1) FAIL("child did not get its EIO");
  ctl_read(ctl, &ev, VXE_CTL_EVENT_IOCTL);
  check_killed_caller(ctl);
  check_close_waits_for_release(ctl);
  close(ctl); /* the pending VM_CREATE fails with ENODEV */
  if (waitpid(child, &status, 0) != child) FAIL("waitpid: %s", strerror(errno));
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status), 0,
            "client saw EIO, ENODEV and its record (exit step)");

  /* A file opened under an earlier model stays unserved. */
  int drm = open_render();
  ctl = open(CTL_NODE, O_RDWR | O_CLOEXEC);
  if (ctl < 0) FAIL("reopen %s: %s", CTL_NODE, strerror(errno));
  uint32_t vm = 0;
  EXPECT_EQ(create_vm(drm, 0, &vm), -ENODEV,
            "a file from before the model attached: ENODEV");
  close(drm);
  close(ctl);
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 2) {
    fprintf(stderr, "usage: vxe_guest_test served|ctl|absent\n");
    return 2;
  }
  if (strcmp(argv[1], "served") == 0) return run_served();
  if (strcmp(argv[1], "ctl") == 0) return run_ctl();
  if (strcmp(argv[1], "absent") == 0) return run_absent();
  fprintf(stderr, "usage: vxe_guest_test served|ctl|absent\n");
  return 2;
}
