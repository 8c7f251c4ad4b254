/*
 * /init of the initramfs that vxe_guest_run_test boots: mounts the kernel's
 * filesystems, loads /vxe.ko and runs vxe_guest_test in its three modes:
 * "absent" (no device model), "ctl" (the test is the device model) and
 * "served" (xehil-simd --vxe_control with /enomem_on_watch.textproto, which
 * must print "ready" first), then runs examples/raw_uapi/restart_on_enomem
 * unchanged against a fresh daemon with the same script ("example"). Each
 * step's outcome goes to the console as "vxe-init: STEP: ok|FAILED (...)";
 * each daemon's final status is printed between "vxe-init: STEP status {"
 * and "}". QEMU then exits through the
 * isa-debug-exit port with 0 (all passed) or 1, i.e. QEMU status 1 or 3.
 * Static C, no dependencies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 30000
#define STATUS_FILE "/tmp/vxe-status.txt"

static int failures;

static void report(const char *step, int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    printf("vxe-init: %s: ok\n", step);
    return;
  }
  ++failures;
  if (WIFEXITED(status))
    printf("vxe-init: %s: FAILED (exit %d)\n", step, WEXITSTATUS(status));
  else
    printf("vxe-init: %s: FAILED (signal %d)\n", step, WTERMSIG(status));
}

static pid_t spawn(char *const argv[], int stdout_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    if (stdout_fd >= 0) dup2(stdout_fd, 1);
    execv(argv[0], argv);
    fprintf(stderr, "vxe-init: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  return pid;
}

static int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

static void run_step(const char *mode) {
  char *argv[] = {"/vxe_guest_test", (char *)mode, NULL};
  report(mode, wait_for(spawn(argv, -1)));
}

/* Reads the daemon's stdout until a "ready" line; 0 or -1. */
static int wait_ready(int fd) {
  char buf[256];
  size_t used = 0;
  for (;;) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, READY_TIMEOUT_MS) != 1) return -1;
    ssize_t n = read(fd, buf + used, sizeof(buf) - 1 - used);
    if (n <= 0) return -1;
    used += (size_t)n;
    buf[used] = '\0';
    if (strstr(buf, "ready\n")) return 0;
    if (used == sizeof(buf) - 1) used = 0;
  }
}

/* Runs `program` against a fresh xehil-simd daemon; `step` names it. */
static void run_served(const char *step, char *const program[]) {
  char *argv[] = {"/xehil-simd", "--vxe_control=/dev/vxe_ctl",
                  "--script=/enomem_on_watch.textproto",
                  "--vxe_status_file=" STATUS_FILE, NULL};
  char daemon_step[64];
  int out[2];
  if (pipe(out) != 0) {
    printf("vxe-init: %s: FAILED (pipe: %s)\n", step, strerror(errno));
    ++failures;
    return;
  }
  pid_t daemon = spawn(argv, out[1]);
  close(out[1]);
  if (wait_ready(out[0]) != 0) {
    printf("vxe-init: %s: FAILED (xehil-simd never printed ready)\n", step);
    ++failures;
    kill(daemon, SIGKILL);
    wait_for(daemon);
    return;
  }
  report(step, wait_for(spawn(program, -1)));
  kill(daemon, SIGTERM);
  snprintf(daemon_step, sizeof(daemon_step), "%s daemon", step);
  report(daemon_step, wait_for(daemon));
  close(out[0]);
  FILE *status = fopen(STATUS_FILE, "r");
  if (status) {
    char line[256];
    printf("vxe-init: %s status {\n", step);
    while (fgets(line, sizeof(line), status)) fputs(line, stdout);
    printf("}\n");
    fclose(status);
  }
}

static void mount_or_warn(const char *src, const char *dir, const char *type) {
  mkdir(dir, 0755);
  if (mount(src, dir, type, 0, NULL) != 0 && errno != EBUSY)
    printf("vxe-init: mount %s: %s\n", dir, strerror(errno));
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  mount_or_warn("devtmpfs", "/dev", "devtmpfs");
  mount_or_warn("proc", "/proc", "proc");
  mount_or_warn("sysfs", "/sys", "sysfs");
  mount_or_warn("tmpfs", "/tmp", "tmpfs");
  int ko = open("/vxe.ko", O_RDONLY | O_CLOEXEC);
  if (ko < 0 || syscall(SYS_finit_module, ko, "", 0) != 0) {
    printf("vxe-init: loading vxe.ko: FAILED (%s)\n", strerror(errno));
    ++failures;
  } else {
    char *served[] = {"/vxe_guest_test", "served", NULL};
    char *example[] = {"/restart_on_enomem", NULL};
    run_step("absent");
    run_step("ctl");
    run_served("served", served);
    run_served("example", example);
  }
  printf("vxe-init: %d failure(s)\n", failures);
  if (ioperm(0xf4, 4, 1) == 0) outb(failures ? 1 : 0, 0xf4);
  printf("vxe-init: isa-debug-exit unavailable\n");
  return 1;
}
