// The xehil-simd binary as users and `xehil sim-run` run it: readiness line,
// logs, signals, usage errors, bad scripts, a live socket.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/simd/client.h"
#include "sim/simd/simd_test_util.h"

namespace xehil::simd {
namespace {

using testing::Child;
using ::testing::HasSubstr;
using testing::ReadLine;
using testing::ReadToEof;
using testing::Spawn;
using testing::TempDir;
using testing::WaitFor;

constexpr char kDaemon[] = "sim/simd/xehil-simd";

std::string Text(int fd) {
  std::vector<uint8_t> bytes;
  ReadToEof(fd, &bytes);
  return std::string(bytes.begin(), bytes.end());
}

void WriteFile(const std::string& path, const std::string& text) {
  UniqueFd fd(
      ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600));
  ASSERT_EQ(::write(fd.get(), text.data(), text.size()),
            static_cast<ssize_t>(text.size()));
}

TEST(XehilSimd, ServesUntilSigtermThenRemovesItsSocket) {
  TempDir dir;
  const std::string socket = dir.path() + "/d.sock";
  const std::string script = dir.path() + "/s.textproto";
  WriteFile(script,
            "rule { when { vm_created {} } action { drop_records: 1 } }");
  Child daemon = Spawn({kDaemon, "--socket=" + socket, "--device-profile",
                        "bmg-12g", "--script=" + script, "--max-clients=8"});
  ASSERT_GT(daemon.pid, 0);
  EXPECT_EQ(ReadLine(daemon.out.get()), "listening on " + socket);
  {
    absl::StatusOr<Client> file =
        Client::Connect(socket, Role::kDrmFile, "/opt/bin/prog");
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_THAT(file->description(), HasSubstr("bmg-12g"));
    absl::StatusOr<Client> control = Client::Connect(socket, Role::kControl);
    ASSERT_TRUE(control.ok());
    sim::ControlRequest status;
    status.mutable_status();
    absl::StatusOr<sim::ControlReply> reply = control->Control(status);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status().profile(), "bmg-12g");
    EXPECT_EQ(reply->status().rules_size(), 1);
    ASSERT_EQ(reply->status().files_size(), 1);
    const uint64_t id = file->file_id();
    file = absl::CancelledError("closed");  // closes the DRM file
    sim::ControlRequest wait;
    wait.mutable_wait_released()->set_file_id(id);
    ASSERT_TRUE(control->Control(wait).ok());
  }
  ASSERT_EQ(::kill(daemon.pid, SIGTERM), 0);
  const int status = WaitFor(daemon.pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(::access(socket.c_str(), F_OK), -1);
  const std::string log = Text(daemon.err.get());
  EXPECT_THAT(log, HasSubstr("1 rules from " + script));
  EXPECT_THAT(log, HasSubstr("file 1 opened by /opt/bin/prog (pid "));
  EXPECT_THAT(log, HasSubstr("file 1 released"));
  EXPECT_THAT(log, HasSubstr("stopping"));
}

TEST(XehilSimd, UsageErrorsExitTwo) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {kDaemon, "--no-such-flag"},
           {kDaemon, "--device-profile=gpu9000"},
           {kDaemon, "--max-clients=0"},
           {kDaemon, "--socket="},
           {kDaemon, "--handshake-timeout-ms=0"},
           {kDaemon, "--vxe_status_file=/tmp/s.txt"},
           {kDaemon, "stray"}}) {
    Child run = Spawn(args);
    const std::string err = Text(run.err.get());
    EXPECT_THAT(err, HasSubstr("xehil-simd: "));
    EXPECT_THAT(err, HasSubstr("(see `xehil-simd --help`)"));
    const int status = WaitFor(run.pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << args[1];
  }
  Child help = Spawn({kDaemon, "--help"});
  EXPECT_THAT(Text(help.out.get()), HasSubstr("--script=FILE"));
  const int status = WaitFor(help.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(XehilSimd, MissingVxeControlDeviceNamesTheModuleAndExitsOne) {
  TempDir dir;
  const std::string path = dir.path() + "/vxe_ctl";
  Child run = Spawn({kDaemon, "--vxe_control=" + path});
  EXPECT_THAT(Text(run.err.get()),
              HasSubstr(path + ": -ENOENT (No such file or directory); is the "
                               "vxe kernel module loaded?"));
  const int status = WaitFor(run.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

// A FIFO stands in for /dev/vxe_ctl: it opens read-write and stays silent,
// so the daemon serves its control socket and nothing else.
TEST(XehilSimd, VxeModeServesControlConnectionsOnTheGivenSocket) {
  TempDir dir;
  const std::string control = dir.path() + "/vxe_ctl";
  const std::string socket = dir.path() + "/control.sock";
  ASSERT_EQ(::mkfifo(control.c_str(), 0600), 0);
  Child daemon = Spawn({kDaemon, "--vxe-control=" + control,
                        "--socket=" + socket, "--device-profile=bmg-12g"});
  ASSERT_GT(daemon.pid, 0);
  EXPECT_EQ(ReadLine(daemon.out.get()), "ready");
  {
    absl::StatusOr<Client> control_client =
        Client::Connect(socket, Role::kControl);
    ASSERT_TRUE(control_client.ok()) << control_client.status();
    sim::ControlRequest status;
    status.mutable_status();
    absl::StatusOr<sim::ControlReply> reply = control_client->Control(status);
    ASSERT_TRUE(reply.ok()) << reply.status();
    EXPECT_EQ(reply->status().profile(), "bmg-12g");
    absl::StatusOr<Client> file = Client::Connect(socket, Role::kDrmFile);
    ASSERT_FALSE(file.ok());
    EXPECT_THAT(file.status().message(),
                HasSubstr("takes control connections only"));
  }
  ::kill(daemon.pid, SIGTERM);
  const int status = WaitFor(daemon.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_THAT(Text(daemon.err.get()), HasSubstr("control on " + socket));
  EXPECT_NE(::access(socket.c_str(), F_OK), 0) << "socket removed on exit";
}

TEST(XehilSimd, BadScriptIsReportedWithItsLine) {
  TempDir dir;
  const std::string script = dir.path() + "/bad.textproto";
  WriteFile(script, "# comment\nrule {\n  when { watch_subscribed {} }\n}\n");
  Child run = Spawn(
      {kDaemon, "--socket=" + dir.path() + "/s.sock", "--script=" + script});
  EXPECT_THAT(Text(run.err.get()),
              HasSubstr(script + ":2:1: rule 1: needs an action"));
  const int status = WaitFor(run.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2);
}

TEST(XehilSimd, ALiveDaemonsSocketIsNotTakenOver) {
  TempDir dir;
  const std::string socket = dir.path() + "/d.sock";
  Child first = Spawn({kDaemon, "--socket=" + socket});
  ASSERT_EQ(ReadLine(first.out.get()), "listening on " + socket);
  Child second = Spawn({kDaemon, "--socket=" + socket});
  EXPECT_THAT(Text(second.err.get()),
              HasSubstr("already listening on " + socket));
  int status = WaitFor(second.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1);
  ::kill(first.pid, SIGINT);
  status = WaitFor(first.pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

}  // namespace
}  // namespace xehil::simd
