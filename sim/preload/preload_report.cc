// libxehil_preload.so: what the program did with its notification pipes that
// works here only by accident, for `xehil sim-run` to name (see
// ReportPipe() in preload_internal.h). Pipes are reported when their last
// descriptor closes, and those still open when the program exits.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim/preload/preload_internal.h"

namespace xehil::preload {
namespace {

// Read once at load time: getenv is not safe against a concurrent setenv.
const char* ReportPath() {
  static const char* path = [] {
    const char* value = ::getenv("XEHIL_PRELOAD_REPORT");
    return value != nullptr && *value != '\0' ? value : nullptr;
  }();
  return path;
}

__attribute__((constructor)) void ReadReportPath() { ReportPath(); }

__attribute__((destructor)) void ReportOpenPipes() {
  if (ReportPath() == nullptr) return;
  for (const auto& [fd, pipe] : Table().NotifyReadEnds()) {
    ReportPipe(*pipe, fd);
  }
}

}  // namespace

void ReportPipe(const NotifyPipe& pipe, int read_fd) {
  const char* path = ReportPath();
  if (path == nullptr || pipe.reader() == nullptr) return;
  const bool loss_owed = read_fd >= 0 ? pipe.reader()->LossOwed(read_fd)
                                      : pipe.reader()->loss_pending();
  if (pipe.hangup_answers() == 0 && !loss_owed) return;
  char line[256];
  const int length =
      ::snprintf(line, sizeof(line),
                 "pipe=%llu pid=%ld hangups=%llu first_ns=%llu last_ns=%llu "
                 "loss_owed=%d\n",
                 static_cast<unsigned long long>(pipe.pipe_id()),
                 static_cast<long>(::getpid()),
                 static_cast<unsigned long long>(pipe.hangup_answers()),
                 static_cast<unsigned long long>(pipe.first_hangup_ns()),
                 static_cast<unsigned long long>(pipe.last_hangup_ns()),
                 loss_owed ? 1 : 0);
  if (length <= 0) return;
  // Raw calls: open and write are ours to override. One O_APPEND write per
  // line keeps lines of several processes whole.
  const long fd = ::syscall(SYS_openat, AT_FDCWD, path,
                            O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!::syscall(SYS_write, fd, line, static_cast<size_t>(length));
  ::syscall(SYS_close, fd);
}

}  // namespace xehil::preload
