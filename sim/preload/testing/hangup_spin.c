/*
 * hangup_spin: the seed listener's mistake, made on purpose. It subscribes a
 * notification pipe, closes the pipe's write end right after, then polls the
 * read end SPINS times. On a kernel every poll() answers POLLHUP at once (the
 * kernel is not a writer), so a real listener written like this spins for
 * ever; here it stops after SPINS so that `xehil sim-run` can name it.
 */
#define _GNU_SOURCE
#include "sim/preload/testing/probe_util.h"

int main(int argc, char **argv) {
  const int spins = argc > 1 ? atoi(argv[1]) : 500;
  int drm = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  CHECK_OK(drm);
  int fds[2];
  CHECK_OK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC));
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32));
  struct drm_xe_watch_queue watch;
  memset(&watch, 0, sizeof(watch));
  watch.fd = (uint32_t)fds[0];
  CHECK_OK(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &watch));
  CHECK_OK(close(fds[1]));

  int hangups = 0;
  for (int i = 0; i < spins; ++i) {
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    CHECK_EQ(poll(&pfd, 1, -1), 1);
    if (pfd.revents & POLLHUP) ++hangups;
  }
  printf("poll answered POLLHUP %d times\n", hangups);
  close(fds[0]);
  close(drm);
  return hangups == spins ? 0 : 1;
}
