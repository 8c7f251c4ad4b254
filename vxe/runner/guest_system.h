// The guest init's dealings with the kernel: the mounts a program expects,
// modules, and ending the VM through
// QEMU's isa-debug-exit port. Each returns "" on success or a message that
// names the call and its errno. libc only (the init is a static binary).
//
//   std::string error = MountGuestFilesystems();
//   if (error.empty()) error = LoadModule("/run/xehil/module0-vxe.ko");
//   ...
//   ExitVm(error.empty() ? kExitDone : kExitFailed);
#ifndef XEHIL_VXE_RUNNER_GUEST_SYSTEM_H_
#define XEHIL_VXE_RUNNER_GUEST_SYSTEM_H_

#include <string>

namespace xehil::vxe {

// Values written to isa-debug-exit; QEMU exits with value * 2 + 1.
inline constexpr int kExitDone = 0;    // status file written: QEMU status 1
inline constexpr int kExitFailed = 1;  // init failed early: QEMU status 3
inline constexpr unsigned kDebugExitPort = 0xf4;

// proc, sys, tmpfs on /tmp, /run and /dev/shm, /dev/fd links, devtmpfs on
// /dev if the kernel has not mounted it, the run directory share at
// kGuestRunDir, and the loopback interface up.
std::string MountGuestFilesystems();

// Opens an existing file for writing (truncating it).
std::string OpenForWriting(const std::string& path, int* fd);

// finit_module(2) of a module file on the (host) filesystem.
std::string LoadModule(const std::string& path);

// Whole-file read and write (write: create/truncate, then fsync).
std::string ReadWholeFile(const std::string& path, std::string* text);
std::string WriteWholeFile(const std::string& path, const std::string& text);

// Writes all of `data` to `fd`, retrying short writes and EINTR.
bool WriteAll(int fd, const char* data, size_t size);

// Milliseconds since boot (CLOCK_BOOTTIME).
double BootTimeMs();

// Ends the VM: QEMU exits with status value * 2 + 1. Does not return.
[[noreturn]] void ExitVm(int value);

}  // namespace xehil::vxe

#endif  // XEHIL_VXE_RUNNER_GUEST_SYSTEM_H_
