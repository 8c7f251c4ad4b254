#include "vxe/runner/guest_system.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/io.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vxe/runner/guest_spec.h"

namespace xehil::vxe {
namespace {

// Where the host's /tmp stays visible (read-only) in the guest.
constexpr char kHostTmp[] = "/run/host-tmp";

std::string Errno(const std::string& what, int err) {
  return what + ": " + strerrorname_np(err) + " (" + strerror(err) + ")";
}

std::string Mount(const char* source, const char* target, const char* type,
                  unsigned long flags, const char* options) {
  ::mkdir(target, 0755);  // exists on the host root for all but /run's own
  if (::mount(source, target, type, flags, options) != 0) {
    return Errno(std::string("mount ") + type + " on " + target, errno);
  }
  return "";
}

std::string LoopbackUp() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return Errno("socket(AF_INET)", errno);
  ifreq ifr{};
  ::strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
  std::string error;
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    error = Errno("SIOCGIFFLAGS lo", errno);
  } else {
    ifr.ifr_flags |= IFF_UP;
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      error = Errno("SIOCSIFFLAGS lo", errno);
    }
  }
  ::close(s);
  return error;
}

// Every entry of the host's /tmp appears in the guest's /tmp as a symlink to
// its read-only view, so host paths under /tmp (a clone there, Bazel's
// runfiles pointing into it) still resolve, while new files go to tmpfs.
std::string LinkHostTmp() {
  DIR* dir = ::opendir(kHostTmp);
  if (dir == nullptr) return Errno(std::string("opendir ") + kHostTmp, errno);
  std::string error;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string target = std::string(kHostTmp) + "/" + name;
    const std::string link = "/tmp/" + name;
    if (::symlink(target.c_str(), link.c_str()) != 0 && errno != EEXIST) {
      error = Errno("symlink " + link, errno);
      break;
    }
  }
  ::closedir(dir);
  return error;
}

}  // namespace

std::string MountGuestFilesystems() {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV;
  // The kernel mounts devtmpfs on /dev itself (DEVTMPFS_MOUNT): EBUSY then.
  if (::mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, nullptr) != 0 &&
      errno != EBUSY) {
    return Errno("mount devtmpfs on /dev", errno);
  }
  const struct {
    const char* source;
    const char* target;
    const char* type;
    unsigned long flags;
    const char* options;
  } mounts[] = {
      {"proc", "/proc", "proc", kSafe | MS_NOEXEC, nullptr},
      {"sysfs", "/sys", "sysfs", kSafe | MS_NOEXEC, nullptr},
      {"tmpfs", "/run", "tmpfs", kSafe, "mode=0755"},
      // The host's /tmp, read-only like the rest of the root, before the
      // guest's own tmpfs covers it (see LinkHostTmp).
      {"/tmp", kHostTmp, nullptr, MS_BIND, nullptr},
      {"tmpfs", "/tmp", "tmpfs", kSafe, "mode=1777"},
      {"tmpfs", "/dev/shm", "tmpfs", kSafe, "mode=1777"},
      {kRunShareTag, kGuestRunDir, "9p", kSafe,
       "trans=virtio,version=9p2000.L,msize=262144"},
  };
  for (const auto& m : mounts) {
    std::string error = Mount(m.source, m.target, m.type, m.flags, m.options);
    if (!error.empty()) return error;
  }
  const char* links[][2] = {{"/proc/self/fd", "/dev/fd"},
                            {"/proc/self/fd/0", "/dev/stdin"},
                            {"/proc/self/fd/1", "/dev/stdout"},
                            {"/proc/self/fd/2", "/dev/stderr"}};
  for (const auto& link : links) {
    if (::symlink(link[0], link[1]) != 0 && errno != EEXIST) {
      return Errno(std::string("symlink ") + link[1], errno);
    }
  }
  if (std::string error = LinkHostTmp(); !error.empty()) return error;
  return LoopbackUp();
}

std::string OpenForWriting(const std::string& path, int* fd) {
  *fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  return *fd < 0 ? Errno("open " + path, errno) : "";
}

std::string LoadModule(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open module " + path, errno);
  const long rc = ::syscall(SYS_finit_module, fd, "", 0);
  const int err = errno;
  ::close(fd);
  return rc == 0 ? "" : Errno("finit_module " + path, err);
}

std::string ReadWholeFile(const std::string& path, std::string* text) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path, errno);
  text->clear();
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return Errno("read " + path, err);
    }
    if (n == 0) break;
    text->append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return "";
}

std::string WriteWholeFile(const std::string& path, const std::string& text) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("open " + path, errno);
  std::string error;
  if (!WriteAll(fd, text.data(), text.size())) {
    error = Errno("write " + path, errno);
  } else if (::fsync(fd) != 0) {
    error = Errno("fsync " + path, errno);
  }
  ::close(fd);
  return error;
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

double BootTimeMs() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 +
         static_cast<double>(ts.tv_nsec) / 1e6;
}

void ExitVm(int value) {
  ::sync();
  if (::ioperm(kDebugExitPort, 4, 1) == 0) {
    ::outl(static_cast<unsigned>(value), kDebugExitPort);
  }
  // No isa-debug-exit device: a panic (PID 1 exits) ends QEMU with
  // -no-reboot instead, and the host reports the missing status.
  ::_exit(value);
}

}  // namespace xehil::vxe
