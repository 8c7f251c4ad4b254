// `xehil sim-run` end to end: the xehil binary starts xehil-simd from its
// runfiles, runs programs under the LD_PRELOAD interposer, and reports.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/simd/simd_test_util.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kXehil[] = "tools/xehil/xehil";
constexpr char kRestartOnEnomem[] = "examples/raw_uapi/restart_on_enomem";

struct Outcome {
  int exit_code = -1;
  std::string out;
};

Outcome Shell(const std::string& command) {
  Outcome run;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) run.out.append(buf, n);
  const int status = ::pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

Outcome SimRun(const std::string& args) {
  return Shell(std::string(kXehil) + " sim-run " + args);
}

class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/sim-run-test-XXXXXX";
    path_ = ::mkdtemp(templ);
  }
  ~TempDir() { Shell("rm -rf " + path_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = path_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

constexpr char kEnomemScript[] = R"pb(
  rule {
    name: "enomem"
    when { watch_subscribed {} }
    action { fail_rebinds { count: 1 error: ERRNO_ENOMEM } }
    action { trigger_rebind {} }
  }
)pb";

TEST(SimRun, ProgramWithoutADeviceStillGetsASummary) {
  Outcome r = SimRun("-- /bin/true");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("/bin/true exited with status 0"));
  EXPECT_THAT(r.out, HasSubstr("simulated device: simulated dg2-16g"));
  EXPECT_THAT(r.out, HasSubstr("files:     0 opened, 0 released"));
  EXPECT_THAT(r.out, HasSubstr("ioctls:    none"));
}

TEST(SimRun, ExitCodeIsTheProgramsOr128PlusItsSignal) {
  EXPECT_EQ(SimRun("-- /bin/sh -c 'exit 3'").exit_code, 3);
  Outcome killed = SimRun("-- /bin/sh -c 'kill -9 $$'");
  EXPECT_EQ(killed.exit_code, 128 + SIGKILL);
  EXPECT_THAT(killed.out, HasSubstr("killed by signal 9"));
  Outcome missing = SimRun("-- /nonexistent/program");
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_THAT(missing.out, HasSubstr("cannot run /nonexistent/program"));
}

TEST(SimRun, TheProgramSeesThePreloadAndTheSocket) {
  Outcome r = SimRun(
      "--device-profile=lnl-igpu -- /bin/sh -c "
      "'echo \"preload=$LD_PRELOAD\"; echo \"socket=$XEHIL_SIMD_SOCKET\"'");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("preload=[^\n]*/sim/preload/"
                                              "libxehil_preload.so\n"));
  EXPECT_THAT(r.out, HasSubstr("socket=/tmp/xehil-sim-run-"));
  EXPECT_THAT(r.out, HasSubstr("simulated lnl-igpu"));
  // An existing LD_PRELOAD is kept, ours appended.
  Outcome appended = Shell(std::string("LD_PRELOAD=libfirst.so ") + kXehil +
                           " sim-run -- /bin/sh -c 'echo \"[$LD_PRELOAD]\"'");
  EXPECT_THAT(appended.out,
              ::testing::ContainsRegex("\\[([^:]*:)?libfirst.so:/[^]]*/"
                                       "libxehil_preload.so\\]"));
}

TEST(SimRun, RawUapiProgramRecoversFromAScriptedEnomem) {
  TempDir dir;
  const std::string script = dir.Write("enomem.textproto", kEnomemScript);
  Outcome r = SimRun("--script=" + script + " -- " + kRestartOnEnomem);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("recovered"));
  EXPECT_THAT(r.out, HasSubstr("files:     1 opened, 1 released"));
  EXPECT_THAT(r.out, HasSubstr("VM_RESTART         1 ok, 1 EALREADY"));
  EXPECT_THAT(r.out, HasSubstr("WATCH_QUEUE        1 ok"));
  EXPECT_THAT(r.out, HasSubstr("records:   1 posted"));
  EXPECT_THAT(r.out, HasSubstr("VMs:       1 paused, 0 banned"));
  EXPECT_THAT(r.out, HasSubstr("restarts:  1 (1 succeeded"));
  EXPECT_THAT(r.out, HasSubstr("rule 'enomem' fired 1 time"));
}

TEST(SimRun, SharedDaemonReportsOnlyWhatEachRunDid) {
  TempDir dir;
  const std::string socket = dir.path() + "/shared.sock";
  xehil::simd::testing::Child daemon = xehil::simd::testing::Spawn(
      {"sim/simd/xehil-simd", "--socket=" + socket});
  ASSERT_GT(daemon.pid, 0);
  ASSERT_EQ(xehil::simd::testing::ReadLine(daemon.out.get()),
            "listening on " + socket);

  const std::string script = dir.Write("enomem.textproto", kEnomemScript);
  Outcome first = SimRun("--socket=" + socket + " --script=" + script + " -- " +
                         kRestartOnEnomem);
  EXPECT_EQ(first.exit_code, 0) << first.out;
  EXPECT_THAT(first.out, HasSubstr("records:   1 posted"));
  Outcome second = SimRun("--socket=" + socket + " -- /bin/true");
  EXPECT_EQ(second.exit_code, 0) << second.out;
  EXPECT_THAT(second.out, HasSubstr("files:     0 opened"));
  EXPECT_THAT(second.out, HasSubstr("records:   0 posted"));
  EXPECT_THAT(second.out, HasSubstr("rule 'enomem' fired 0 times"));

  Outcome profile =
      SimRun("--socket=" + socket + " --device-profile=bmg-12g -- true");
  EXPECT_EQ(profile.exit_code, 2);
  EXPECT_THAT(profile.out, HasSubstr("--device-profile only applies"));
  ::kill(daemon.pid, SIGTERM);
  const int status = xehil::simd::testing::WaitFor(daemon.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(SimRun, SetupProblemsAreNamed) {
  Outcome no_preload = SimRun("--preload=/nonexistent/libx.so -- /bin/true");
  EXPECT_EQ(no_preload.exit_code, 1);
  EXPECT_THAT(no_preload.out, HasSubstr("--preload=/nonexistent/libx.so"));
  Outcome no_daemon = SimRun("--simd=/nonexistent/xehil-simd -- /bin/true");
  EXPECT_EQ(no_daemon.exit_code, 1);
  EXPECT_THAT(no_daemon.out, HasSubstr("/nonexistent/xehil-simd"));
  Outcome no_socket = SimRun("--socket=/nonexistent/s.sock -- /bin/true");
  EXPECT_EQ(no_socket.exit_code, 1);
  EXPECT_THAT(no_socket.out, HasSubstr("/nonexistent/s.sock"));

  TempDir dir;
  const std::string bad = dir.Write("bad.textproto", "rule {\n  when {}\n}\n");
  Outcome bad_script = SimRun("--script=" + bad + " -- /bin/true");
  EXPECT_EQ(bad_script.exit_code, 2);
  EXPECT_THAT(bad_script.out, HasSubstr(bad + ":2:3:"));
  EXPECT_THAT(bad_script.out, Not(HasSubstr("exited with status")));

  Outcome no_program = SimRun("");
  EXPECT_EQ(no_program.exit_code, 2);
  EXPECT_THAT(no_program.out, HasSubstr("sim-run needs a program"));
}

TEST(SimRun, NamesAListenerThatClosedItsWriteEndAndSpins) {
  const Outcome run = SimRun(std::string("-- sim/preload/hangup_spin 300"));
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, HasSubstr("got POLLHUP/EOF at once 300 times"));
  EXPECT_THAT(run.out, HasSubstr("Keep the write end open"));
}

TEST(SimRun, SaysNothingOfAListenerThatKeepsItsWriteEnd) {
  TempDir dir;
  const std::string script = dir.Write("enomem.textproto", kEnomemScript);
  const Outcome run = SimRun("--script=" + script + " -- " + kRestartOnEnomem);
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_THAT(run.out, Not(HasSubstr("hint:")));
}

// A sim-run whose program prints its pid and socket, then waits for EOF on
// descriptor 3 (`hold`'s read end), so the test decides when it may end.
struct HeldSimRun {
  xehil::simd::testing::Child sim_run;
  xehil::UniqueFd hold;  // closing it lets the program end
  pid_t program = -1;
  std::string dir;  // the private daemon's directory
};

HeldSimRun StartHeldSimRun() {
  HeldSimRun run;
  int hold[2];
  if (::pipe2(hold, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2";
    return run;
  }
  xehil::UniqueFd hold_read(hold[0]);
  run.hold = xehil::UniqueFd(hold[1]);
  run.sim_run = xehil::simd::testing::Spawn(
      {kXehil, "sim-run", "--", "/bin/sh", "-c",
       "echo $$ $XEHIL_SIMD_SOCKET; read x <&3; exit 0"},
      hold_read.get());
  const std::string line =
      xehil::simd::testing::ReadLine(run.sim_run.out.get());
  const size_t space = line.find(' ');
  if (space == std::string::npos) {
    ADD_FAILURE() << "program said '" << line << "'";
    return run;
  }
  run.program = std::stoi(line.substr(0, space));
  const std::string socket = line.substr(space + 1);
  run.dir = socket.substr(0, socket.rfind('/'));
  return run;
}

// Whether `fd` becomes readable within 30 s.
bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  int n;
  while ((n = ::poll(&p, 1, 30000)) < 0 && errno == EINTR) {
  }
  return n == 1;
}

TEST(SimRun, SigkilledSimRunTakesItsProgramAndDaemonAlong) {
  HeldSimRun run = StartHeldSimRun();
  ASSERT_GT(run.program, 0);
  xehil::UniqueFd program(
      static_cast<int>(::syscall(SYS_pidfd_open, run.program, 0)));
  ASSERT_TRUE(program.valid()) << strerror(errno);
  xehil::UniqueFd dir_gone(::inotify_init1(IN_CLOEXEC));
  ASSERT_GE(
      ::inotify_add_watch(dir_gone.get(), run.dir.c_str(), IN_DELETE_SELF), 0)
      << run.dir;

  ASSERT_EQ(::kill(run.sim_run.pid, SIGKILL), 0);
  xehil::simd::testing::WaitFor(run.sim_run.pid);
  EXPECT_TRUE(Readable(program.get())) << "the program outlived sim-run";
  EXPECT_TRUE(Readable(dir_gone.get())) << run.dir << " was left behind";
  ::kill(run.program, SIGKILL);  // in case it was orphaned after all
}

TEST(SimRun, AClosedStderrDoesNotKillSimRunBeforeItCleansUp) {
  HeldSimRun run = StartHeldSimRun();
  ASSERT_GT(run.program, 0);
  run.sim_run.err.reset();  // `2>&1 | head -1` after the first line
  run.hold.reset();  // the program ends; sim-run reports to a closed pipe
  const int status = xehil::simd::testing::WaitFor(run.sim_run.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "status " << status;
  EXPECT_NE(::access(run.dir.c_str(), F_OK), 0) << run.dir << " still exists";
}

}  // namespace
