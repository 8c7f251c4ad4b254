#include "core/base/testing/forked_child.h"

#include <grp.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace xehil::testing {

int ReportFromChild(int fd, int code, const std::string& text) {
  const std::string line = text + "\n";
  (void)!::write(fd, line.data(), line.size());
  return code;
}

ForkedChildReport RunForkedChild(const std::function<int(int)>& child) {
  ForkedChildReport report;
  int fds[2];
  if (::pipe(fds) != 0) {
    report.said = "pipe() failed";
    return report;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    report.said = "fork() failed";
    return report;
  }
  if (pid == 0) {
    ::close(fds[0]);
    ::_exit(child(fds[1]));
  }
  ::close(fds[1]);
  char buffer[256];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) {
    report.said.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) {
    report.said += "waitpid() failed\n";
    return report;
  }
  if (WIFSIGNALED(status)) {
    report.signaled = true;
    report.signal = WTERMSIG(status);
    report.said += "the child died of signal " + std::to_string(report.signal) +
                   " (std::terminate on a failed thread start?)\n";
  } else if (WIFEXITED(status)) {
    report.exit_code = WEXITSTATUS(status);
  }
  return report;
}

std::string DropRootForThreadLimit() {
  if (::geteuid() != 0) return "";
  if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 ||
      ::setuid(65534) != 0) {
    return "cannot drop root to make RLIMIT_NPROC bind";
  }
  return "";
}

std::string RefuseNewThreads(rlimit* old) {
  ::getrlimit(RLIMIT_NPROC, old);
  const rlimit low{1, old->rlim_max};
  if (::setrlimit(RLIMIT_NPROC, &low) != 0) {
    return "setrlimit(RLIMIT_NPROC) failed";
  }
  pthread_t probe;
  if (::pthread_create(
          &probe, nullptr, [](void*) -> void* { return nullptr; }, nullptr) ==
      0) {
    ::pthread_join(probe, nullptr);
    ::setrlimit(RLIMIT_NPROC, old);
    return "RLIMIT_NPROC does not bind here (CAP_SYS_RESOURCE?)";
  }
  return "";
}

}  // namespace xehil::testing
