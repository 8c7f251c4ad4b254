#include "vxe/runner/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "core/base/errno_status.h"
#include "vxe/runner/guest_spec.h"
#include "vxe/runner/guest_system.h"

namespace xehil::vxe {

absl::Status RunDir::Create() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(
      tmp != nullptr && tmp[0] != '\0' ? tmp : "/tmp", "/xehil-vm-XXXXXX");
  if (::mkdtemp(templ.data()) == nullptr) {
    return ErrnoToStatus(errno, "mkdtemp " + templ);
  }
  path_ = templ;
  if (::mkdir(share().c_str(), 0755) != 0) {
    return ErrnoToStatus(errno, "mkdir " + share());
  }
  if (::mkfifo(console().c_str(), 0600) != 0) {
    return ErrnoToStatus(errno, "mkfifo " + console());
  }
  for (const char* name : {kStdoutFile, kStderrFile, kDaemonFile}) {
    if (std::string e = WriteWholeFile(Shared(name), ""); !e.empty()) {
      return absl::InternalError(e);
    }
  }
  return absl::OkStatus();
}

RunDir::~RunDir() {
  if (path_.empty()) return;
  if (DIR* d = ::opendir(share().c_str()); d != nullptr) {
    while (dirent* entry = ::readdir(d)) {
      if (entry->d_name[0] == '.') continue;
      ::unlink(Shared(entry->d_name).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(share().c_str());
  ::unlink(console().c_str());
  ::rmdir(path_.c_str());
}

absl::StatusOr<std::string> RunDir::StageModule(const std::string& path,
                                                int index) const {
  std::string bytes;
  if (std::string e = ReadWholeFile(path, &bytes); !e.empty()) {
    return absl::NotFoundError("guest module: " + e);
  }
  const std::string name =
      absl::StrCat("module", index, "-", path.substr(path.rfind('/') + 1));
  if (std::string e = WriteWholeFile(Shared(name), bytes); !e.empty()) {
    return absl::InternalError(e);
  }
  return absl::StrCat(kGuestRunDir, "/", name);
}

}  // namespace xehil::vxe
