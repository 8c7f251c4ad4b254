#include "vxe/runner/kernel_locator.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "core/base/errno_status.h"
#include "core/base/unique_fd.h"

extern char** environ;

namespace xehil::vxe {
namespace {

absl::StatusOr<std::string> Checked(const std::string& dir,
                                    const std::string& from) {
  if (::access((dir + "/vmlinux").c_str(), R_OK) != 0) {
    return absl::NotFoundError(
        absl::StrCat("no vmlinux in ", dir, " (", from, "); ", kBuildHint));
  }
  return dir;
}

}  // namespace

absl::StatusOr<std::string> FindVxeKernel(const std::string& explicit_dir,
                                          const std::string& build_script) {
  if (!explicit_dir.empty()) return Checked(explicit_dir, "--kernel");
  const char* env = std::getenv(kKernelDirEnv);
  if (env != nullptr && env[0] != '\0') {
    return Checked(env, absl::StrCat("$", kKernelDirEnv));
  }
  if (build_script.empty() || ::access(build_script.c_str(), R_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("no vxe kernel: $", kKernelDirEnv,
                                            " is not set and build-kernel.sh "
                                            "was not found; ",
                                            kBuildHint));
  }
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe");
  UniqueFd read_end(out[0]), write_end(out[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  std::string bash = "bash", script = build_script, check = "--check";
  char* argv[] = {bash.data(), script.data(), check.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "bash", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (rc != 0) return ErrnoToStatus(rc, "spawn bash " + build_script);
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(read_end.get(), buffer, sizeof(buffer))) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::NotFoundError(absl::StrCat(
        "the vxe kernel is not built on this machine; ", kBuildHint));
  }
  return Checked(std::string(absl::StripSuffix(text, "\n")), build_script);
}

}  // namespace xehil::vxe
