/*
 * uapi_probe: runs one scenario of raw-UAPI calls, the way recovery code in
 * the field makes them, and checks every result against the kernel's
 * documented behaviour. Run under libxehil_preload.so with a xehil-simd
 * daemon (preload_integration_test); links nothing of xehil but the UAPI
 * header. Built with _FORTIFY_SOURCE so that the __open_2/__read_chk/
 * __poll_chk entry points are exercised too.
 *
 *   uapi_probe device|passthrough|pipes|eof|dup|nodaemon|lost|nodes|fork
 *
 * With XEHIL_PROBE_FIFO=<fifo>, scenarios stop at their pause points (see
 * probe_pause) until the test lets them go on.
 *
 * Exit 0: every check held; 1: a check failed (stderr says which).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/wait.h>

#include "sim/preload/testing/probe_util.h"

/* Added to sizes the compiler must not know, so that fortified calls go
 * to __read_chk and __poll_chk/__ppoll_chk. */
volatile size_t unknown_zero = 0;

/* uapi_probe_pipes.c */
int scenario_pipes(void);
int scenario_eof(void);
int scenario_dup(void);
int scenario_nodaemon(void);

static int scenario_device(void) {
  int fd = open_node();
  CHECK_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

  /* DRM_IOCTL_VERSION, libdrm style: lengths first, then the strings. */
  struct drm_version version;
  memset(&version, 0, sizeof(version));
  CHECK_OK(ioctl(fd, DRM_IOCTL_VERSION, &version));
  CHECK_EQ(version.name_len, 2);
  CHECK(version.date_len > 0 && version.desc_len > 0);
  char name[3] = {0}, date[64] = {0}, desc[128] = {0};
  version.name = name;
  version.date = date;
  version.desc = desc;
  CHECK(version.date_len < sizeof(date) && version.desc_len < sizeof(desc));
  CHECK_OK(ioctl(fd, DRM_IOCTL_VERSION, &version));
  CHECK(strcmp(name, "xe") == 0);
  CHECK(version.name == name && version.desc == desc);
  CHECK_EQ(strlen(desc), version.desc_len);
  /* A short buffer gets a prefix and the full length, nothing beyond. */
  char shorty[4] = {'#', '#', '#', '#'};
  memset(&version, 0, sizeof(version));
  version.name = shorty;
  version.name_len = 1;
  CHECK_OK(ioctl(fd, DRM_IOCTL_VERSION, &version));
  CHECK(shorty[0] == 'x' && shorty[1] == '#');
  CHECK_EQ(version.name_len, 2);

  /* DEVICE_QUERY two-call protocol. */
  struct drm_xe_device_query query;
  memset(&query, 0, sizeof(query));
  query.query = DRM_XE_DEVICE_QUERY_MEM_REGIONS;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query));
  CHECK(query.size >= sizeof(struct drm_xe_query_mem_regions) +
                          sizeof(struct drm_xe_mem_region));
  struct drm_xe_query_mem_regions* regions = calloc(1, query.size);
  query.data = (uintptr_t)regions;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query));
  CHECK(query.data == (uintptr_t)regions);
  CHECK(regions->num_mem_regions >= 1);
  CHECK_EQ(regions->mem_regions[0].mem_class, DRM_XE_MEM_REGION_CLASS_SYSMEM);
  const uint32_t sysmem = 1u << regions->mem_regions[0].instance;
  query.size -= 1;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query), EINVAL);
  query.size += 1;
  query.data = 0;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query), EFAULT);
  free(regions);

  memset(&query, 0, sizeof(query));
  query.query = DRM_XE_DEVICE_QUERY_ENGINES;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query));
  struct drm_xe_query_engines* engines = calloc(1, query.size);
  query.data = (uintptr_t)engines;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query));
  CHECK(engines->num_engines >= 1);
  memset(&query, 0, sizeof(query));
  query.query = 99;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_DEVICE_QUERY, &query), EINVAL);

  /* VMs, exec queues, BOs, binds. */
  struct drm_xe_vm_create bad;
  memset(&bad, 0, sizeof(bad));
  bad.flags = 1u << 20;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &bad), EINVAL);
  const uint32_t vm = create_vm(
      fd, DRM_XE_VM_CREATE_FLAG_LR_MODE | DRM_XE_VM_CREATE_FLAG_RESTARTABLE);

  struct drm_xe_exec_queue_create queue;
  memset(&queue, 0, sizeof(queue));
  queue.width = 1;
  queue.num_placements = 1;
  queue.vm_id = vm;
  queue.instances = (uintptr_t)&engines->engines[0].instance;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &queue));
  CHECK(queue.exec_queue_id != 0);
  CHECK(queue.instances == (uintptr_t)&engines->engines[0].instance);
  queue.instances = 0;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_EXEC_QUEUE_CREATE, &queue), EFAULT);

  struct drm_xe_gem_create gem;
  memset(&gem, 0, sizeof(gem));
  gem.size = 0x10000;
  gem.placement = sysmem;
  gem.cpu_caching = DRM_XE_GEM_CPU_CACHING_WB;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_GEM_CREATE, &gem));
  CHECK(gem.handle != 0);

  struct drm_xe_vm_bind_op ops[2];
  memset(ops, 0, sizeof(ops));
  for (int i = 0; i < 2; ++i) {
    ops[i].obj = gem.handle;
    ops[i].obj_offset = 0x8000u * i;
    ops[i].range = 0x8000;
    ops[i].addr = 0x100000u * (i + 1);
    ops[i].op = DRM_XE_VM_BIND_OP_MAP;
  }
  struct drm_xe_vm_bind bind;
  memset(&bind, 0, sizeof(bind));
  bind.vm_id = vm;
  bind.num_binds = 2;
  bind.vector_of_binds = (uintptr_t)ops;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_VM_BIND, &bind));
  memset(&bind, 0, sizeof(bind));
  bind.vm_id = vm;
  bind.num_binds = 1;
  bind.bind.op = DRM_XE_VM_BIND_OP_UNMAP;
  bind.bind.addr = 0x100000;
  bind.bind.range = 0x8000;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_VM_BIND, &bind));

  struct drm_xe_vm_restart restart;
  memset(&restart, 0, sizeof(restart));
  restart.vm_id = vm;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_RESTART, &restart), EALREADY);

  struct drm_xe_exec_queue_destroy queue_destroy;
  memset(&queue_destroy, 0, sizeof(queue_destroy));
  queue_destroy.exec_queue_id = queue.exec_queue_id;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_EXEC_QUEUE_DESTROY, &queue_destroy));
  struct drm_gem_close gem_close;
  memset(&gem_close, 0, sizeof(gem_close));
  gem_close.handle = gem.handle;
  CHECK_OK(ioctl(fd, DRM_IOCTL_GEM_CLOSE, &gem_close));
  struct drm_xe_vm_destroy destroy;
  memset(&destroy, 0, sizeof(destroy));
  destroy.vm_id = vm;
  CHECK_OK(ioctl(fd, DRM_IOCTL_XE_VM_DESTROY, &destroy));
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_DESTROY, &destroy), ENOENT);

  /* Requests the simulator does not implement, DRM or not. */
  struct drm_get_cap cap;
  memset(&cap, 0, sizeof(cap));
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_GET_CAP, &cap), ENOTTY);
  int queued = 0;
  CHECK_ERRNO(ioctl(fd, FIONREAD, &queued), ENOTTY);
  /* VFS-level ioctls work on every file. */
  CHECK_OK(ioctl(fd, FIONCLEX));
  CHECK_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  free(engines);
  CHECK_OK(close(fd));
  CHECK_ERRNO(close(fd), EBADF);
  return 0;
}

/* Files, pipes and descriptors that are not ours behave as without us. */
static int scenario_passthrough(void) {
  char path[] = "/tmp/xehil-probe-XXXXXX";
  int file = mkstemp(path);
  CHECK_OK(file);
  CHECK_EQ(write(file, "hello", 5), 5);
  CHECK_OK(close(file));
  int flags = O_RDONLY; /* not a constant: the fortified __open_2 path */
  if (getpid() == 0) flags |= O_TRUNC;
  file = open(path, flags);
  CHECK_OK(file);
  char buf[16] = {0};
  CHECK_EQ(read(file, buf, sizeof(buf)), 5);
  CHECK(memcmp(buf, "hello", 5) == 0);
  int copy = dup(file);
  CHECK_OK(copy);
  CHECK_OK(fcntl(copy, F_DUPFD_CLOEXEC, 50));
  CHECK_OK(close(copy));
  CHECK_OK(close(file));
  CHECK_OK(unlink(path));
  CHECK_ERRNO(open("/dev/dri/renderD", O_RDWR), ENOENT);
  CHECK_ERRNO(open("/dev/dri/renderD128x", O_RDWR), ENOENT);

  int fds[2];
  CHECK_OK(pipe2(fds, O_CLOEXEC));
  struct pollfd p = {fds[0], POLLIN, 0};
  CHECK_EQ(poll(&p, 1, 0), 0);
  CHECK_EQ(write(fds[1], "abc", 3), 3);
  int queued = 0;
  CHECK_OK(ioctl(fds[0], FIONREAD, &queued));
  CHECK_EQ(queued, 3);
  CHECK_EQ(poll(&p, 1, 0), 1);
  CHECK_EQ(read(fds[0], buf, 2), 2); /* ordinary pipes split freely */
  CHECK_OK(close(fds[1]));
  CHECK_EQ(read(fds[0], buf, sizeof(buf)), 1);
  CHECK_EQ(poll(&p, 1, 0), 1);
  CHECK_EQ(p.revents, POLLHUP);
  CHECK_EQ(read(fds[0], buf, sizeof(buf)), 0);
  CHECK_OK(close(fds[0]));
  CHECK_ERRNO(ioctl(-1, FIONREAD, &queued), EBADF);
  CHECK_ERRNO(close(-1), EBADF);
  return 0;
}

/* The daemon dies mid-session (the test kills it at the pause). */
/* The simulated machine has one GPU: renderD128 and card0, nothing else. */
static int scenario_nodes(void) {
  CHECK_ERRNO(open("/dev/dri/renderD99999", O_RDWR), ENOENT);
  CHECK_ERRNO(open("/dev/dri/renderD129", O_RDWR | O_CLOEXEC), ENOENT);
  CHECK_ERRNO(open("/dev/dri/renderD0128", O_RDWR), ENOENT);
  CHECK_ERRNO(openat(AT_FDCWD, "/dev/dri/card1", O_RDWR), ENOENT);
  CHECK_ERRNO(open("/dev/dri/renderD99999", O_RDWR | O_CREAT, 0600), ENOENT);
  /* Served nodes exist: O_CREAT|O_EXCL is EEXIST, O_CREAT alone opens. */
  CHECK_ERRNO(open(NODE, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST);
  CHECK_ERRNO(
      openat(AT_FDCWD, "/dev/dri/card0", O_RDWR | O_CREAT | O_EXCL, 0600),
      EEXIST);
  int fd = open(NODE, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  CHECK_OK(fd);
  CHECK_OK(close(fd));
  fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
  CHECK_OK(fd);
  CHECK_OK(close(fd));
  return 0;
}

/* A global, so that it has the same address in parent and child: a child
 * whose interposer copied arguments from its parent's memory (a pid cached
 * before fork) would create a VM with the parent's invalid flags, and write
 * the reply into the parent. */
static struct drm_xe_vm_create fork_create;

static int scenario_fork(void) {
  int fd = open_node();
  create_vm(fd, DRM_XE_VM_CREATE_FLAG_LR_MODE); /* the interposer ran here */
  memset(&fork_create, 0, sizeof(fork_create));
  fork_create.flags = 0x80000000u; /* no such flag: -EINVAL */
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &fork_create), EINVAL);
  const pid_t child = fork();
  CHECK_OK(child);
  if (child == 0) {
    fork_create.flags = DRM_XE_VM_CREATE_FLAG_LR_MODE;
    CHECK_OK(ioctl(fd, DRM_IOCTL_XE_VM_CREATE, &fork_create));
    CHECK(fork_create.vm_id != 0);
    _exit(0);
  }
  int status = 0;
  CHECK_EQ(waitpid(child, &status, 0), child);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHECK_EQ(fork_create.flags, 0x80000000u); /* the child's copy, not ours */
  CHECK_EQ(fork_create.vm_id, 0);
  CHECK_OK(close(fd));
  return 0;
}

static int scenario_lost(void) {
  int fd = open_node();
  const uint32_t vm = create_vm(fd, DRM_XE_VM_CREATE_FLAG_LR_MODE);
  int fds[2];
  CHECK_OK(pipe2(fds, O_NOTIFICATION_PIPE | O_CLOEXEC));
  probe_pause("connected");
  struct drm_xe_vm_destroy destroy;
  memset(&destroy, 0, sizeof(destroy));
  destroy.vm_id = vm;
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_DESTROY, &destroy), EIO);
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_XE_VM_DESTROY, &destroy), EIO);
  struct drm_get_cap cap; /* never sent to the daemon: still ENOTTY */
  memset(&cap, 0, sizeof(cap));
  CHECK_ERRNO(ioctl(fd, DRM_IOCTL_GET_CAP, &cap), ENOTTY);
  CHECK_ERRNO(ioctl(fds[0], IOC_WATCH_QUEUE_SET_SIZE, 32), EIO);
  CHECK_OK(close(fd));
  CHECK_OK(close(fds[0]));
  CHECK_OK(close(fds[1]));
  CHECK_ERRNO(open(NODE, O_RDWR), ENOENT); /* no daemon: no device */
  CHECK_ERRNO(pipe2(fds, O_NOTIFICATION_PIPE), ENOPKG);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: uapi_probe SCENARIO\n");
    return 2;
  }
  /* The interposer must be loaded, and must not have re-entered itself. */
  unsigned long long (*violations)(void) = (unsigned long long (*)(void))dlsym(
      RTLD_DEFAULT, "xehil_preload_violations");
  if (violations == NULL) PROBE_FAIL("libxehil_preload.so is not loaded");
  alarm(60); /* a hang fails the probe instead of the test's timeout */
  int rc = 2;
  if (strcmp(argv[1], "device") == 0) rc = scenario_device();
  if (strcmp(argv[1], "passthrough") == 0) rc = scenario_passthrough();
  if (strcmp(argv[1], "pipes") == 0) rc = scenario_pipes();
  if (strcmp(argv[1], "eof") == 0) rc = scenario_eof();
  if (strcmp(argv[1], "dup") == 0) rc = scenario_dup();
  if (strcmp(argv[1], "nodaemon") == 0) rc = scenario_nodaemon();
  if (strcmp(argv[1], "lost") == 0) rc = scenario_lost();
  if (strcmp(argv[1], "nodes") == 0) rc = scenario_nodes();
  if (strcmp(argv[1], "fork") == 0) rc = scenario_fork();
  if (rc == 2) fprintf(stderr, "uapi_probe: unknown scenario %s\n", argv[1]);
  CHECK_EQ(violations(), 0);
  if (rc == 0) printf("uapi_probe %s: ok\n", argv[1]);
  return rc;
}
