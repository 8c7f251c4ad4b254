// `xehil vm-run` end to end: real boots of the vxe kernel under QEMU (TCG).
// Skips when QEMU or the kernel is missing; ./scripts/test.sh builds the
// kernel first and passes its directory as $XEHIL_VXE_KERNEL.
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "vxe/tests/vm_run_skip.h"

namespace {

using ::testing::ContainsRegex;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kXehil[] = "tools/xehil/xehil";
constexpr char kStaticProbe[] = "vxe/runner/static_probe";

struct Outcome {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

Outcome Shell(const std::string& command) {
  const std::string err_path = TempPath("vm_run_stderr");
  Outcome run;
  FILE* p = ::popen((command + " 2>" + err_path).c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) run.out.append(buf, n);
  const int status = ::pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadAll(err_path);
  return run;
}

Outcome VmRun(const std::string& args) {
  return Shell(std::string(kXehil) + " vm-run " + args);
}

#define SKIP_WITHOUT_VM()                                                    \
  if (const std::string missing = xehil::vxe::testing::WhyVmRunCannotBoot(); \
      !missing.empty())                                                      \
  GTEST_SKIP() << missing

TEST(VmRun, TrueExitsZero) {
  SKIP_WITHOUT_VM();
  Outcome r = VmRun("-- /bin/true");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(VmRun, ExitsWithTheProgramsStatus) {
  SKIP_WITHOUT_VM();
  Outcome r = VmRun("-- sh -c 'exit 7'");
  EXPECT_EQ(r.exit_code, 7) << r.err;
}

TEST(VmRun, StreamsStdoutExactlyAndStderrApart) {
  SKIP_WITHOUT_VM();
  Outcome r =
      VmRun("-- sh -c 'echo hello; printf \"a\\r\\nb\"; echo oops >&2'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\na\r\nb");
  EXPECT_EQ(r.err, "oops\n");
}

TEST(VmRun, TemporaryDirectoriesPointAtTheGuestsWritableTmp) {
  SKIP_WITHOUT_VM();
  ASSERT_NE(std::getenv("TEST_TMPDIR"), nullptr);
  Outcome r = VmRun(
      "-- sh -c 'echo $TMPDIR $TEST_TMPDIR $XEHIL_VM; touch $TEST_TMPDIR/x "
      "&& touch / 2>/dev/null || echo root is read-only'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "/tmp /tmp 1\nroot is read-only\n");
}

TEST(VmRun, StaticBinaryRunsOnTheVxeKernelInTheSameDirectory) {
  SKIP_WITHOUT_VM();
  char cwd[4096];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  Outcome r = VmRun(std::string("-- ") + kStaticProbe + " 3 x 'y z'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  // The guest kernel has notification pipes; Debian's kernels do not.
  EXPECT_THAT(r.out, StartsWith("release=6.12."));
  EXPECT_THAT(r.out, EndsWith(std::string(" watch_queue=yes cwd=") + cwd +
                              " args=x,y z\n"));
}

TEST(VmRun, HungProgramIsKilledAtTheTimeoutWithTheConsoleTail) {
  SKIP_WITHOUT_VM();
  Outcome r = VmRun("--timeout=10 -- sh -c 'echo started; exec sleep 1000'");
  EXPECT_EQ(r.exit_code, 124);
  EXPECT_THAT(r.err, HasSubstr("did not finish within 10 s and was killed; "
                               "last lines of its console:\n"));
  // The tail holds kernel console lines; once the program has started (a
  // loaded machine may take longer to boot), they end with the init's start.
  EXPECT_THAT(r.err, ContainsRegex("\\[ *[0-9]+\\.[0-9]+\\] "));
  if (r.out == "started\n") {
    EXPECT_THAT(r.err, HasSubstr("as init process"));
  }
}

TEST(VmRun, SigtermStopsTheGuestAndExitsWithTheSignal) {
  SKIP_WITHOUT_VM();
  const std::string fifo = TempPath("out.fifo");
  ::unlink(fifo.c_str());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Once the program has printed, vm-run gets SIGTERM; it returns only after
  // QEMU has exited (it waits for QEMU's output to close).
  Outcome r = Shell(std::string("(") + kXehil +
                    " vm-run -- sh -c 'echo started; exec sleep 1000' >" +
                    fifo + " & pid=$!; read line <" + fifo +
                    "; kill -TERM $pid; wait $pid; echo \"$line rc=$?\")");
  EXPECT_EQ(r.out, "started rc=143\n") << r.err;
  EXPECT_THAT(r.err, HasSubstr("stopped on request; the guest was killed"));
}

TEST(VmRun, ProgramThatCannotRunExits127) {
  SKIP_WITHOUT_VM();
  Outcome r = VmRun("-- /nonexistent/program");
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_THAT(r.err, HasSubstr("exec /nonexistent/program: ENOENT"));
}

TEST(VmRun, DaemonRunsAroundTheProgramOnceReady) {
  SKIP_WITHOUT_VM();
  const std::string daemon = TempPath("daemon.sh");
  std::ofstream(daemon) << "#!/bin/sh\n"
                           "trap 'echo daemon-stopping; exit 0' TERM\n"
                           "echo daemon-starting\n"
                           "touch /tmp/daemon-was-here\n"
                           "echo ready\n"
                           "while :; do sleep 0.05; done\n";
  ::chmod(daemon.c_str(), 0755);
  Outcome r = VmRun("--verbose --guest_daemon=" + daemon +
                    " -- sh -c 'test -e /tmp/daemon-was-here && echo program'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "program\n");
  const size_t starting = r.err.find("daemon-starting");
  const size_t stopping = r.err.find("daemon-stopping");
  EXPECT_NE(starting, std::string::npos) << r.err;
  EXPECT_NE(stopping, std::string::npos) << r.err;
  EXPECT_LT(starting, stopping);
  EXPECT_THAT(r.err, Not(HasSubstr("\nready\n")));
}

TEST(VmRun, ModuleThatCannotLoadFailsTheRun) {
  SKIP_WITHOUT_VM();
  Outcome r = VmRun("--guest_module=/nonexistent/vxe.ko -- /bin/true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("guest module: open /nonexistent/vxe.ko: ENOENT"));
  // Not an ELF module: the guest kernel refuses it with ENOEXEC.
  const std::string bogus = TempPath("bogus.ko");
  std::ofstream(bogus) << "not a module";
  r = VmRun("--guest_module=" + bogus + " -- /bin/true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("finit_module /run/xehil/module0-bogus.ko: ENOEXEC"));
  EXPECT_THAT(r.err, HasSubstr("last lines of the guest console"));
}

// These need neither QEMU nor a kernel.
TEST(VmRun, MissingKernelExits1WithTheBuildHint) {
  Outcome r = VmRun("--kernel=/nonexistent/kernel -- /bin/true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no vmlinux in /nonexistent/kernel"));
  EXPECT_THAT(r.err, HasSubstr("vxe/kernel/build-kernel.sh"));
}

TEST(VmRun, MissingQemuExits1NamingThePackage) {
  Outcome r = VmRun("--kernel=" + TempPath("") +
                    " --qemu=/nonexistent/qemu-system-x86_64 -- /bin/true");
  // Any directory with a vmlinux will do: the QEMU check comes first.
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no vmlinux in"));
  std::ofstream(TempPath("vmlinux")) << "not a kernel";
  r = VmRun("--kernel=" + TempPath("") +
            " --qemu=/nonexistent/qemu-system-x86_64 -- /bin/true");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/qemu-system-x86_64 not found: "
                               "install qemu-system-x86"));
}

TEST(VmRun, BadFlagsAreUsageErrors) {
  EXPECT_EQ(VmRun("--cpus=0 -- /bin/true").exit_code, 2);
  EXPECT_EQ(VmRun("--accel=hvf -- /bin/true").exit_code, 2);
  EXPECT_EQ(VmRun("").exit_code, 2);
}

}  // namespace
