/*
 * uapi_probe scenarios on notification pipes: the watch-queue ioctls and
 * their errnos, removal records, whole-record reads, the EOF/POLLHUP of a
 * pipe without a user writer, and dup() bookkeeping (see uapi_probe.c).
 */
#define _GNU_SOURCE
#include <time.h>

#include "sim/preload/testing/probe_util.h"

extern volatile size_t unknown_zero; /* uapi_probe.c */

int scenario_pipes(void) {
  int fds[2];
  CHECK_OK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC));
  CHECK_EQ(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  CHECK_ERRNO(write(fds[1], "x", 1), EXDEV);

  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 0), EINVAL);
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 513), EINVAL);
  /* Filters: header + entries, kernel rules. */
  /* The header's flexible array with room for 17 entries (a union, since a
     struct holding it must end with it). */
  union {
    struct watch_notification_filter head;
    unsigned char bytes[sizeof(struct watch_notification_filter) +
                        17 * sizeof(struct watch_notification_type_filter)];
  } filter;
  memset(&filter, 0, sizeof(filter));
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter), EINVAL);
  filter.head.nr_filters = 17;
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter), EINVAL);
  filter.head.nr_filters = 1;
  filter.head.__reserved = 1;
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter), EINVAL);
  filter.head.__reserved = 0;
  filter.head.filters[0].type = WATCH_TYPE_DRM_XE_NOTIFY;
  filter.head.filters[0].subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  filter.head.filters[0].info_filter = 1u << 16;
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter), EINVAL);
  filter.head.filters[0].info_filter = 0;
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter));
  CHECK_OK(ioctl(fds[1], IOC_WATCH_QUEUE_SET_FILTER, NULL)); /* either end */
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32));
  CHECK_ERRNO(ioctl(fds[1], IOC_WATCH_QUEUE_SET_SIZE, 32), EBUSY);
  int queued = -1;
  CHECK_OK(ioctl(fds[0], FIONREAD, &queued));
  CHECK_EQ(queued, 0);

  int drm = open_node();
  int plain[2];
  CHECK_OK(pipe2(plain, O_CLOEXEC));
  struct drm_xe_watch_queue w;
  memset(&w, 0, sizeof(w));
  w.fd = (uint32_t)plain[0];
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EINVAL);
  w.fd = 999; /* not open: the kernel says EINVAL, not EBADF */
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EINVAL);
  w.fd = (uint32_t)fds[0];
  w.flags = 1;
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EINVAL);
  w.flags = 0;
  w.watch_id = 256;
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EINVAL);
  w.watch_id = 3;
  CHECK_OK(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w));
  CHECK_EQ(w.fd, fds[0]); /* _IOW: nothing is copied back */
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EBUSY);
  w.fd = (uint32_t)fds[1]; /* the same pipe through its other end */
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w), EBUSY);

  /* Other ioctls on the pipe reach the kernel. */
  CHECK_OK(ioctl(fds[0], FIONBIO, &(int){1}));
  unsigned char buf[64];
  CHECK_ERRNO(read(fds[0], buf, sizeof(buf)), EAGAIN);
  CHECK_OK(close(drm));
  CHECK_OK(close(plain[0]));
  CHECK_OK(close(plain[1]));
  CHECK_OK(close(fds[0]));
  CHECK_OK(close(fds[1]));
  return 0;
}

/* Removal records, whole-record reads, and the kernel-is-not-a-writer EOF. */
int scenario_eof(void) {
  int fds[2];
  notification_pipe(fds);
  int drm = open_node();
  watch(drm, fds[0], 5);
  int later = open_node(); /* a second watch, for "EOF is not final" below */
  watch(later, fds[0], 6);
  CHECK_OK(close(drm)); /* the file goes: a removal record follows */
  wait_for_record(fds[0]);
  int queued = 0;
  CHECK_OK(ioctl(fds[0], FIONREAD, &queued));
  CHECK_EQ(queued, 8);

  int idle[2]; /* an ordinary pipe nobody writes to */
  CHECK_OK(pipe2(idle, O_CLOEXEC));
  CHECK_OK(close(fds[1])); /* our last write end: no writer is left */
  struct pollfd set[2] = {{idle[0], POLLIN, 0}, {fds[0], POLLIN, 0}};
  CHECK_EQ(poll(set, 2 + unknown_zero, 20000), 1); /* at once, idle or not */
  CHECK_EQ(set[0].revents, 0);
  CHECK_EQ(set[1].revents, POLLIN | POLLHUP);
  unsigned char buf[128];
  CHECK_ERRNO(read(fds[0], buf, 4 + unknown_zero), ENOBUFS); /* whole */
  CHECK_OK(ioctl(fds[0], FIONREAD, &queued));
  CHECK_EQ(queued, 8);
  expect_removal(fds[0], 5);
  struct timespec zero = {0, 0};
  CHECK_EQ(ppoll(set, 2 + unknown_zero, NULL, NULL), 1);
  CHECK_EQ(set[1].revents, POLLHUP);
  CHECK_EQ(ppoll(set, 2, &zero, NULL), 1);
  set[1].events = 0; /* POLLHUP is reported unasked */
  CHECK_EQ(poll(set, 2, -1), 1);
  CHECK_EQ(set[1].revents, POLLHUP);
  CHECK_EQ(read(fds[0], buf, sizeof(buf) + unknown_zero), 0); /* EOF, though */
  CHECK_EQ(read(fds[0], buf, sizeof(buf)), 0); /* the daemon writes on */

  /* EOF is not final: a record that comes later brings POLLIN back, is
   * read, and then the pipe reads EOF again. The second file's watch posts
   * its removal record when that file is closed. */
  CHECK_OK(close(later));
  set[1].events = POLLIN;
  struct timespec tick = {0, 1000000};
  for (int i = 0; i < 20000; ++i) { /* POLLHUP answers at once: wait */
    CHECK_EQ(poll(&set[1], 1, 0), 1);
    if (set[1].revents & POLLIN) break;
    nanosleep(&tick, NULL);
  }
  CHECK_EQ(set[1].revents, POLLIN | POLLHUP);
  expect_removal(fds[0], 6);
  CHECK_EQ(read(fds[0], buf, sizeof(buf)), 0);
  CHECK_OK(close(fds[0]));
  CHECK_OK(close(idle[0]));
  CHECK_OK(close(idle[1]));
  return 0;
}

/* dup()s of a DRM fd keep the file open; dup()s of write ends count. */
int scenario_dup(void) {
  int fds[2];
  notification_pipe(fds);
  int a = open_node();
  watch(a, fds[0], 9);
  const uint32_t vm = create_vm(a, DRM_XE_VM_CREATE_FLAG_LR_MODE);
  int b = dup(a);
  CHECK_OK(b);
  CHECK_EQ(dup2(b, 100), 100);
  int d = fcntl(a, F_DUPFD_CLOEXEC, 200);
  CHECK(d >= 200);
  CHECK_OK(close(a));
  CHECK_OK(close(b));
  CHECK_OK(close(d));
  probe_pause("one-dup-left"); /* the test sees the file still open */
  /* The same file is still open: its VM is there. */
  struct drm_xe_vm_destroy destroy;
  memset(&destroy, 0, sizeof(destroy));
  destroy.vm_id = vm;
  CHECK_OK(ioctl(100, DRM_IOCTL_XE_VM_DESTROY, &destroy));
  int queued = -1;
  CHECK_OK(ioctl(fds[0], FIONREAD, &queued));
  CHECK_EQ(queued, 0);  /* no removal record */
  CHECK_OK(close(100)); /* the last one: the file is released */
  wait_for_record(fds[0]);
  expect_removal(fds[0], 9);
  probe_pause("released"); /* the test sees no file open */

  /* Write ends: a dup keeps the pipe written; dup2 over one closes it. */
  int w2 = dup(fds[1]);
  CHECK_OK(w2);
  CHECK_OK(close(fds[1]));
  struct pollfd p = {fds[0], POLLIN, 0};
  CHECK_EQ(poll(&p, 1, 0), 0);
  int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
  CHECK_OK(null_fd);
  CHECK_EQ(dup2(null_fd, w2), w2); /* w2 is /dev/null now */
  CHECK_EQ(write(w2, "x", 1), 1);
  CHECK_EQ(poll(&p, 1, 0), 1);
  CHECK_EQ(p.revents, POLLHUP);
  CHECK_OK(close(w2));
  CHECK_OK(close(null_fd));
  CHECK_OK(close(fds[0]));
  return 0;
}

/* Without XEHIL_SIMD_SOCKET: no device, no notification pipes. */
int scenario_nodaemon(void) {
  CHECK_ERRNO(open(NODE, O_RDWR), ENOENT);
  CHECK_ERRNO(openat(AT_FDCWD, "/dev/dri/card0", O_RDWR), ENOENT);
  int fds[2];
  CHECK_ERRNO(pipe2(fds, O_NOTIFICATION_PIPE), ENOPKG);
  CHECK_ERRNO(pipe2(fds, O_NOTIFICATION_PIPE), ENOPKG);
  CHECK_OK(pipe2(fds, 0));
  CHECK_OK(close(fds[0]));
  CHECK_OK(close(fds[1]));
  return 0;
}
