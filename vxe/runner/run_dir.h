// The host side of a vm-run's run directory: a temporary directory whose
// `share/` is the guest's kGuestRunDir (spec, status, output files, staged
// modules) beside the FIFO QEMU writes the serial console to. Removed, with
// everything in it, on destruction.
//
//   RunDir dir;
//   if (absl::Status s = dir.Create(); !s.ok()) return s;
//   absl::StatusOr<std::string> guest_path = dir.StageModule("/tmp/x.ko", 0);
#ifndef XEHIL_VXE_RUNNER_RUN_DIR_H_
#define XEHIL_VXE_RUNNER_RUN_DIR_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xehil::vxe {

class RunDir {
 public:
  RunDir() = default;
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;
  ~RunDir();

  // Makes the directory under $TMPDIR (or /tmp), the console FIFO and the
  // empty output files the guest writes.
  absl::Status Create();

  // Copies a module into `share/` (the guest's own /tmp hides the host's,
  // where modules are often built); returns its path in the guest.
  absl::StatusOr<std::string> StageModule(const std::string& path,
                                          int index) const;

  std::string share() const { return path_ + "/share"; }
  std::string Shared(const std::string& name) const {
    return share() + "/" + name;
  }
  std::string console() const { return path_ + "/console"; }

 private:
  std::string path_;
};

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_RUN_DIR_H_
