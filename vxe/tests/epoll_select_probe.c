/*
 * epoll and select on a notification pipe, on the real kernel (vm-run with
 * enomem_on_watch.textproto): a VM_ERR makes the read end readable for both;
 * once the last write end is closed and the pipe is drained, epoll reports
 * EPOLLHUP and select a readable end that reads EOF. The interposer does not
 * emulate these (sim/preload/README.md): this is their test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <unistd.h>

#include "core/uapi/xe_uapi.h"

#define CHECK(cond)                                                        \
  do {                                                                     \
    if (!(cond)) {                                                         \
      fprintf(stderr, "%s:%d: %s (errno %s)\n", __FILE__, __LINE__, #cond, \
              strerror(errno));                                            \
      return 1;                                                            \
    }                                                                      \
  } while (0)

int main(void) {
  int drm = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  CHECK(drm >= 0);
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  CHECK(ioctl(drm, DRM_IOCTL_XE_VM_CREATE, &create) == 0);
  int fds[2];
  CHECK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC) == 0);
  CHECK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32) == 0);
  int epoll = epoll_create1(EPOLL_CLOEXEC);
  CHECK(epoll >= 0);
  struct epoll_event watch = {.events = EPOLLIN, .data.fd = fds[0]};
  CHECK(epoll_ctl(epoll, EPOLL_CTL_ADD, fds[0], &watch) == 0);
  struct epoll_event got;
  CHECK(epoll_wait(epoll, &got, 1, 0) == 0); /* nothing yet */

  struct drm_xe_watch_queue subscribe;
  memset(&subscribe, 0, sizeof(subscribe));
  subscribe.fd = (uint32_t)fds[0];
  CHECK(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &subscribe) == 0);
  /* The script fails the VM's rebind once the watch is subscribed. */
  CHECK(epoll_wait(epoll, &got, 1, 20000) == 1);
  CHECK(got.events == EPOLLIN);
  fd_set readable;
  FD_ZERO(&readable);
  FD_SET(fds[0], &readable);
  struct timeval zero = {0, 0};
  CHECK(select(fds[0] + 1, &readable, NULL, NULL, &zero) == 1);
  unsigned char record[128];
  CHECK(read(fds[0], record, sizeof(record)) ==
        (ssize_t)sizeof(struct drm_xe_watch_notification_vm_err));
  printf("epoll and select saw the VM_ERR\n");

  CHECK(close(fds[1]) == 0); /* no writer left: hang-up, EOF */
  CHECK(epoll_wait(epoll, &got, 1, 0) == 1);
  CHECK(got.events == EPOLLHUP);
  FD_ZERO(&readable);
  FD_SET(fds[0], &readable);
  CHECK(select(fds[0] + 1, &readable, NULL, NULL, &zero) == 1);
  CHECK(read(fds[0], record, sizeof(record)) == 0);
  printf("epoll and select saw the hang-up\n");
  close(epoll);
  close(fds[0]);
  close(drm);
  return 0;
}
