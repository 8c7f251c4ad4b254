/*
 * Checks for the probe programs that libxehil_preload.so is tested with.
 * They are plain C against the raw UAPI, like the field code the interposer
 * exists for, so they use no test framework: a failed check prints the
 * expression, the file and line and what happened, and exits 1.
 */
#ifndef XEHIL_SIM_PRELOAD_TESTING_PROBE_UTIL_H_
#define XEHIL_SIM_PRELOAD_TESTING_PROBE_UTIL_H_

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

#define PROBE_FAIL(...)                             \
  do {                                              \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__);                   \
    fprintf(stderr, "\n");                          \
    exit(1);                                        \
  } while (0)

/* `expr` must succeed (return >= 0). */
#define CHECK_OK(expr)                                                       \
  do {                                                                       \
    long probe_rc_ = (long)(expr);                                           \
    if (probe_rc_ < 0)                                                       \
      PROBE_FAIL("%s failed: %s (errno %d)", #expr, strerror(errno), errno); \
  } while (0)

/* `expr` must fail with -1 and errno `err`. */
#define CHECK_ERRNO(expr, err)                                               \
  do {                                                                       \
    errno = 0;                                                               \
    long probe_rc_ = (long)(expr);                                           \
    int probe_errno_ = errno;                                                \
    if (probe_rc_ != -1 || probe_errno_ != (err))                            \
      PROBE_FAIL("%s: want -1/%s, got %ld/%s", #expr, strerror(err),         \
                 probe_rc_, probe_rc_ == -1 ? strerror(probe_errno_) : "-"); \
  } while (0)

#define CHECK(cond)                                     \
  do {                                                  \
    if (!(cond)) PROBE_FAIL("check failed: %s", #cond); \
  } while (0)

#define CHECK_EQ(a, b)                                                  \
  do {                                                                  \
    long long probe_a_ = (long long)(a), probe_b_ = (long long)(b);     \
    if (probe_a_ != probe_b_)                                           \
      PROBE_FAIL("%s == %s: %lld != %lld", #a, #b, probe_a_, probe_b_); \
  } while (0)

/*
 * With XEHIL_PROBE_FIFO set, prints "pause <label>" and waits for the test
 * to write a byte into that FIFO, so the test can look at the daemon (or
 * kill it) at this point of the scenario. Without it, does nothing.
 */
static inline void probe_pause(const char* label) {
  const char* fifo = getenv("XEHIL_PROBE_FIFO");
  if (fifo == NULL) return;
  printf("pause %s\n", label);
  fflush(stdout);
  int fd = open(fifo, O_RDONLY | O_CLOEXEC);
  if (fd < 0) PROBE_FAIL("open %s: %s", fifo, strerror(errno));
  char byte;
  if (read(fd, &byte, 1) != 1) PROBE_FAIL("read %s: %s", fifo, strerror(errno));
  close(fd);
}

/* ---- UAPI steps shared by the probes ---- */

#define NODE "/dev/dri/renderD128"

static inline int open_node(void) {
  int fd = open(NODE, O_RDWR | O_CLOEXEC);
  if (fd < 0) PROBE_FAIL("open %s: %s", NODE, strerror(errno));
  return fd;
}

static inline uint32_t create_vm(int fd, uint32_t flags) {
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags = flags;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &create));
  CHECK(create.vm_id != 0);
  return create.vm_id;
}

/* A notification pipe sized for 32 notes; `fds` gets both ends. */
static inline void notification_pipe(int fds[2]) {
  CHECK_OK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC));
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32));
}

static inline void watch(int drm_fd, int pipe_fd, uint32_t watch_id) {
  struct drm_xe_watch_queue w;
  memset(&w, 0, sizeof(w));
  w.fd = (uint32_t)pipe_fd;
  w.watch_id = watch_id;
  CHECK_OK(ioctl(drm_fd, DRM_IOCTL_XE_WATCH_QUEUE, &w));
}

/* Blocks (write end open) until a record is queued on `read_fd`. */
static inline void wait_for_record(int read_fd) {
  struct pollfd p = {read_fd, POLLIN, 0};
  CHECK_EQ(poll(&p, 1, 20000), 1);
  CHECK_EQ(p.revents, POLLIN);
}

/* Reads one removal record for `watch_id`. */
static inline void expect_removal(int read_fd, uint32_t watch_id) {
  unsigned char buf[128];
  ssize_t n = read(read_fd, buf, sizeof(buf));
  CHECK_EQ(n, 8);
  struct watch_notification record;
  memcpy(&record, buf, sizeof(record));
  CHECK_EQ(record.type, WATCH_TYPE_META);
  CHECK_EQ(record.subtype, WATCH_META_REMOVAL_NOTIFICATION);
  CHECK_EQ(record.info & WATCH_INFO_LENGTH, 8);
  CHECK_EQ((record.info & WATCH_INFO_ID) >> WATCH_INFO_ID__SHIFT, watch_id);
}

#endif /* XEHIL_SIM_PRELOAD_TESTING_PROBE_UTIL_H_ */
