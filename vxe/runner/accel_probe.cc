#include "vxe/runner/accel_probe.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "vxe/runner/guest_system.h"

namespace xehil::vxe {
namespace {

constexpr double kProbeTimeoutS = 30;

}  // namespace

// What the probe's answer depends on: this kernel, this QEMU, this CPU and
// host kernel.
std::string AccelProbeKey(const VmRunOptions& base) {
  std::string cpuinfo;
  ReadWholeFile("/proc/cpuinfo", &cpuinfo);
  const size_t model = cpuinfo.find("model name");
  std::string text =
      base.kernel_dir + "\n" + FindExecutable(base.qemu) + "\n" +
      (model == std::string::npos
           ? ""
           : cpuinfo.substr(model, cpuinfo.find('\n', model) - model));
  utsname name{};
  if (::uname(&name) == 0) absl::StrAppend(&text, "\n", name.release);
  return absl::StrFormat("%016x", std::hash<std::string>()(text));
}

std::string DefaultAccelCacheDir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] != '\0') {
    return absl::StrCat(xdg, "/xehil/vxe-accel");
  }
  if (home != nullptr && home[0] != '\0') {
    return absl::StrCat(home, "/.cache/xehil/vxe-accel");
  }
  return "";
}

std::string ChooseAccel(const VmRunOptions& base, const std::string& cache_dir,
                        std::string* why) {
  const int kvm = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0) {
    *why = "/dev/kvm is not usable: TCG";
    return "tcg";
  }
  ::close(kvm);
  const std::string cache =
      cache_dir.empty() ? ""
                        : absl::StrCat(cache_dir, "/", AccelProbeKey(base));
  std::string cached;
  if (!cache.empty() && ReadWholeFile(cache, &cached).empty() &&
      (cached == "kvm" || cached == "tcg")) {
    *why = absl::StrCat("probe boot under KVM (cached in ", cache,
                        "): ", cached == "kvm" ? "works" : "failed, TCG");
    return cached;
  }
  VmRunOptions probe = base;
  probe.argv = {"/bin/true"};
  probe.accel = "kvm";
  probe.timeout_s = kProbeTimeoutS;
  probe.guest_modules.clear();
  probe.guest_daemon.clear();
  probe.console_fd = -1;
  absl::StatusOr<VmRunResult> result = RunInVm(probe);
  const bool works = result.ok() && result->exit_code == 0;
  const std::string choice = works ? "kvm" : "tcg";
  // A probe that could not start (no kernel, init or QEMU) says nothing
  // about KVM: not cached.
  const bool booted =
      result.ok() || result.status().code() != absl::StatusCode::kNotFound;
  if (!cache.empty() && booted) {
    for (size_t slash = cache_dir.find('/', 1);;
         slash = cache_dir.find('/', slash + 1)) {
      ::mkdir(cache_dir.substr(0, slash).c_str(), 0755);
      if (slash == std::string::npos) break;
    }
    WriteWholeFile(cache, choice);
  }
  *why = works ? "probe boot under KVM works"
               : absl::StrCat("probe boot under KVM failed (",
                              result.ok()
                                  ? absl::StrCat("exit ", result->exit_code)
                                  : std::string(absl::StatusCodeToString(
                                        result.status().code())),
                              "): TCG");
  return choice;
}

}  // namespace xehil::vxe
