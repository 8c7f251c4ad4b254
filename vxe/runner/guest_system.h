// The guest init's dealings with the kernel: the mounts a program expects,
// raw serial ports for its output, modules, and ending the VM through
// QEMU's isa-debug-exit port. Each returns "" on success or a message that
// names the call and its errno. libc only (the init is a static binary).
//
//   std::string error = MountGuestFilesystems();
//   int out = -1;
//   if (error.empty()) error = OpenRawPort("/dev/ttyS1", &out);
//   ...
//   ExitVm(error.empty() ? kExitDone : kExitFailed);
#ifndef XEHIL_VXE_RUNNER_GUEST_SYSTEM_H_
#define XEHIL_VXE_RUNNER_GUEST_SYSTEM_H_

#include <string>

namespace xehil::vxe {

// Serial ports (QEMU -serial order): 0 is the kernel console, then the
// program's stdout and stderr, then the daemon's output.
inline constexpr char kProgramStdoutPort[] = "/dev/ttyS1";
inline constexpr char kProgramStderrPort[] = "/dev/ttyS2";
inline constexpr char kDaemonPort[] = "/dev/ttyS3";

// Values written to isa-debug-exit; QEMU exits with value * 2 + 1.
inline constexpr int kExitDone = 0;    // status file written: QEMU status 1
inline constexpr int kExitFailed = 1;  // init failed early: QEMU status 3
inline constexpr unsigned kDebugExitPort = 0xf4;

// proc, sys, tmpfs on /tmp, /run and /dev/shm, /dev/fd links, devtmpfs on
// /dev if the kernel has not mounted it, the run directory share at
// kGuestRunDir, and the loopback interface up.
std::string MountGuestFilesystems();

// Opens a serial port for writing in raw mode (no \n -> \r\n).
std::string OpenRawPort(const char* path, int* fd);

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
