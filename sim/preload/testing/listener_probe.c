/*
 * listener_probe: the shape of real recovery code, under the interposer —
 * a listener thread blocked in poll() on a notification pipe while the main
 * thread issues ioctls on the DRM file. Needs xehil-simd started with
 * enomem_on_watch.textproto, so that subscribing makes a VM_ERR record.
 *
 *  1. main: restartable VM, filtered notification pipe, listener thread,
 *     WATCH_QUEUE; then ioctls while the listener waits;
 *  2. listener: reads VM_ERR (-ENOMEM) and hands it to main, which restarts
 *     the VM (0, then EALREADY);
 *  3. main closes the DRM file: the listener reads the removal record;
 *  4. once the listener is blocked in poll, main closes the write end: the
 *     listener wakes with POLLHUP and reads EOF; a second thread blocked in
 *     read() on another notification pipe gets EOF the same way.
 *
 * Exit 0 when all of it happened, 1 otherwise (stderr says what).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/syscall.h>

#include "sim/preload/testing/probe_util.h"

#define WATCH_ID 4

struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int read_fd;
  int vm_errors;  /* VM_ERR records seen */
  uint32_t vm_id; /* of the last one */
  int32_t error_code;
  uint64_t timestamp_ns;
  int removals;
  int eof; /* the listener saw POLLHUP and read EOF */
  pid_t listener_tid;
};

static struct shared s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void handle_records(const unsigned char* buf, ssize_t n) {
  for (ssize_t at = 0; at < n;) {
    struct watch_notification head;
    memcpy(&head, buf + at, sizeof(head));
    const ssize_t len = head.info & WATCH_INFO_LENGTH;
    CHECK(len >= 8 && at + len <= n); /* whole records only */
    CHECK_EQ((head.info & WATCH_INFO_ID) >> WATCH_INFO_ID__SHIFT, WATCH_ID);
    pthread_mutex_lock(&s.mu);
    if (head.type == WATCH_TYPE_DRM_XE_NOTIFY &&
        head.subtype == DRM_XE_WATCH_EVENT_VM_ERR) {
      struct drm_xe_watch_notification_vm_err err;
      CHECK_EQ(len, sizeof(err));
      memcpy(&err, buf + at, sizeof(err));
      s.vm_errors++;
      s.vm_id = err.vm_id;
      s.error_code = err.error_code;
      s.timestamp_ns = err.timestamp_ns;
    } else if (head.type == WATCH_TYPE_META &&
               head.subtype == WATCH_META_REMOVAL_NOTIFICATION) {
      s.removals++;
    } else {
      PROBE_FAIL("unexpected record type %u subtype %u", head.type,
                 head.subtype);
    }
    pthread_cond_broadcast(&s.cv);
    pthread_mutex_unlock(&s.mu);
    at += len;
  }
}

/* Blocks in poll(), reads whatever is queued, until POLLHUP and EOF. */
static void* listener(void* unused) {
  (void)unused;
  pthread_mutex_lock(&s.mu);
  s.listener_tid = gettid();
  pthread_mutex_unlock(&s.mu);
  unsigned char buf[4096];
  for (;;) {
    struct pollfd p = {s.read_fd, POLLIN, 0};
    int rc = poll(&p, 1, -1);
    if (rc < 0 && errno == EINTR) continue;
    CHECK_EQ(rc, 1);
    ssize_t n = read(s.read_fd, buf, sizeof(buf));
    CHECK_OK(n);
    if (n == 0) {
      CHECK(p.revents & POLLHUP); /* EOF only once no writer is left */
      break;
    }
    handle_records(buf, n);
  }
  pthread_mutex_lock(&s.mu);
  s.eof = 1;
  pthread_cond_broadcast(&s.cv);
  pthread_mutex_unlock(&s.mu);
  return NULL;
}

struct reader {
  int fd;
  pid_t tid;
  pthread_mutex_t mu;
};

/* Blocks in read() on a read end until EOF. */
static void* blocked_reader(void* arg) {
  struct reader* r = arg;
  pthread_mutex_lock(&r->mu);
  r->tid = gettid();
  pthread_mutex_unlock(&r->mu);
  unsigned char buf[128];
  ssize_t n = read(r->fd, buf, sizeof(buf));
  CHECK_EQ(n, 0);
  return NULL;
}

/*
 * Waits until thread `*tid` sits in ppoll(), where the interposer blocks for
 * poll() and for a read() of an empty notification pipe, so that closing
 * the last write end then has to wake it (the daemon's write end keeps the
 * real pipe from ever doing so). /proc/self/task/TID/syscall shows the
 * syscall a blocked thread is in; where it cannot be read the close simply
 * comes whenever it comes, which is just as correct but proves less.
 */
static void wait_until_in_ppoll(pthread_mutex_t* mu, const pid_t* tid) {
  pid_t id = 0;
  while (id == 0) {
    pthread_mutex_lock(mu);
    id = *tid;
    pthread_mutex_unlock(mu);
  }
  char path[64], want[16], got[64];
  snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)id);
  snprintf(want, sizeof(want), "%d ", (int)SYS_ppoll);
  for (;;) {
    FILE* f = fopen(path, "r");
    if (f == NULL) return;
    char* line = fgets(got, sizeof(got), f);
    fclose(f);
    if (line == NULL) return;
    if (strncmp(got, want, strlen(want)) == 0) return;
  }
}

static void wait_until(int* counter, int value) {
  pthread_mutex_lock(&s.mu);
  while (*counter < value) pthread_cond_wait(&s.cv, &s.mu);
  pthread_mutex_unlock(&s.mu);
}

int main(void) {
  alarm(60);
  int drm = open("/dev/dri/renderD128", O_RDWR | O_CLOEXEC);
  CHECK_OK(drm);
  struct drm_xe_vm_create create;
  memset(&create, 0, sizeof(create));
  create.flags =
      DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE;
  CHECK_OK(ioctl(drm, DRM_IOCTL_XE_VM_CREATE, &create));

  int fds[2];
  CHECK_OK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC));
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 64));
  /* The header's flexible array with room for one entry (a union, since a
     struct holding it must end with it). */
  union {
    struct watch_notification_filter head;
    unsigned char bytes[sizeof(struct watch_notification_filter) +
                        sizeof(struct watch_notification_type_filter)];
  } filter;
  memset(&filter, 0, sizeof(filter));
  filter.head.nr_filters = 1;
  filter.head.filters[0].type = WATCH_TYPE_DRM_XE_NOTIFY;
  filter.head.filters[0].subtype_filter[0] = 1u << DRM_XE_WATCH_EVENT_VM_ERR;
  CHECK_OK(ioctl(fds[0], IOC_WATCH_QUEUE_SET_FILTER, &filter));
  s.read_fd = fds[0];
  pthread_t listener_thread;
  CHECK_EQ(pthread_create(&listener_thread, NULL, listener, NULL), 0);

  struct drm_xe_watch_queue w;
  memset(&w, 0, sizeof(w));
  w.fd = (uint32_t)fds[0];
  w.watch_id = WATCH_ID;
  CHECK_OK(ioctl(drm, DRM_IOCTL_XE_WATCH_QUEUE, &w));
  /* Ioctls on the file while the listener is in poll(). */
  for (int i = 0; i < 200; ++i) {
    struct drm_xe_device_query query;
    memset(&query, 0, sizeof(query));
    query.query = DRM_XE_DEVICE_QUERY_ENGINES;
    CHECK_OK(ioctl(drm, DRM_IOCTL_XE_DEVICE_QUERY, &query));
  }

  wait_until(&s.vm_errors, 1);
  CHECK_EQ(s.vm_id, create.vm_id);
  CHECK_EQ(s.error_code, -ENOMEM);
  CHECK(s.timestamp_ns != 0);
  struct drm_xe_vm_restart restart;
  memset(&restart, 0, sizeof(restart));
  restart.vm_id = s.vm_id;
  restart.timestamp_ns = s.timestamp_ns;
  CHECK_OK(ioctl(drm, DRM_IOCTL_XE_VM_RESTART, &restart));
  CHECK_ERRNO(ioctl(drm, DRM_IOCTL_XE_VM_RESTART, &restart), EALREADY);

  CHECK_OK(close(drm));
  wait_until(&s.removals, 1);
  wait_until_in_ppoll(&s.mu, &s.listener_tid);
  CHECK_OK(close(fds[1])); /* the blocked listener must wake: POLLHUP */
  CHECK_EQ(pthread_join(listener_thread, NULL), 0);
  CHECK_EQ(s.eof, 1);
  CHECK_EQ(s.vm_errors, 1);
  CHECK_OK(close(fds[0]));

  int other[2];
  CHECK_OK(pipe2(other, O_NOTIFICATION_PIPE));
  struct reader r = {other[0], 0, PTHREAD_MUTEX_INITIALIZER};
  pthread_t reader_thread;
  CHECK_EQ(pthread_create(&reader_thread, NULL, blocked_reader, &r), 0);
  wait_until_in_ppoll(&r.mu, &r.tid);
  CHECK_OK(close(other[1])); /* the blocked reader must wake: EOF */
  CHECK_EQ(pthread_join(reader_thread, NULL), 0);
  CHECK_OK(close(other[0]));
  printf("listener_probe: ok\n");
  return 0;
}
