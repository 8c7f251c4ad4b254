// static_probe: a statically linked program for vm-run's tests. Prints the
// kernel it runs on, whether notification pipes work there, its working
// directory and arguments, then exits with the status given as argv[1].
//
//   static_probe 3 a b   ->  release=6.12.118 watch_queue=yes cwd=/x args=a,b
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--help") {
    std::printf("usage: static_probe [EXIT_STATUS [ARGS...]]\n");
    return 0;
  }
  utsname name{};
  ::uname(&name);
  // O_NOTIFICATION_PIPE is O_EXCL: ENOPKG without CONFIG_WATCH_QUEUE.
  int fds[2];
  std::string watch_queue = "yes";
  if (::pipe2(fds, O_EXCL) != 0) {
    watch_queue = std::string("no(") + strerrorname_np(errno) + ")";
  } else {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  char cwd[4096] = "?";
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) ::strcpy(cwd, "?");
  std::string args;
  for (int i = 2; i < argc; ++i)
    args += (i > 2 ? "," : "") + std::string(argv[i]);
  std::printf("release=%s watch_queue=%s cwd=%s args=%s\n", name.release,
              watch_queue.c_str(), cwd, args.c_str());
  return argc > 1 ? std::atoi(argv[1]) : 0;
}
