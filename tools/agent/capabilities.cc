#include "tools/agent/capabilities.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/backend/drm_backend.h"
#include "core/base/errno_status.h"

namespace xehil::agent {

lab::Capability ProbeFailFunction(absl::string_view debugfs) {
  lab::Capability cap;
  const std::string dir = absl::StrCat(debugfs, "/fail_function");
  const std::string inject = dir + "/inject";
  if (access(std::string(debugfs).c_str(), F_OK) != 0) {
    cap.set_detail(absl::StrCat("no ", debugfs, " (debugfs not mounted?)"));
    return cap;
  }
  if (access(dir.c_str(), F_OK) != 0) {
    cap.set_detail(absl::StrCat(
        "no ", dir,
        " (kernel without CONFIG_FAIL_FUNCTION, or debugfs not mounted)"));
    return cap;
  }
  if (access(inject.c_str(), W_OK) != 0) {
    cap.set_detail(absl::StrCat(inject,
                                " is not writable: ", DescribeErrno(-errno),
                                " (the agent needs root for it)"));
    return cap;
  }
  cap.set_available(true);
  cap.set_detail(absl::StrCat(inject, " is writable"));
  return cap;
}

lab::KernelCapabilities ProbeKernel(absl::string_view debugfs) {
  lab::KernelCapabilities caps;
  struct utsname name {};
  if (uname(&name) == 0) {
    caps.set_release(name.release);
  }
  absl::Status watch = ProbeWatchQueueSupport();
  caps.mutable_watch_queue()->set_available(watch.ok());
  caps.mutable_watch_queue()->set_detail(
      watch.ok() ? "pipe2(O_NOTIFICATION_PIPE) works"
                 : std::string(watch.message()));
  *caps.mutable_fail_function() = ProbeFailFunction(debugfs);
  return caps;
}

std::string HostName() {
  char buffer[256] = {};
  if (gethostname(buffer, sizeof(buffer) - 1) != 0) return "unknown";
  return buffer;
}

absl::StatusOr<uint64_t> ReadMemTotal(absl::string_view meminfo_path) {
  std::ifstream in{std::string(meminfo_path)};
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", meminfo_path));
  }
  std::string line;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t kib = 0;
    if (fields.size() == 3 && fields[0] == "MemTotal:" && fields[2] == "kB" &&
        absl::SimpleAtoi(fields[1], &kib)) {
      return kib * 1024;
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat(meminfo_path, " has no MemTotal line"));
}

}  // namespace xehil::agent
