// Runs the raw-UAPI probe programs (testing/*.c) under libxehil_preload.so
// against a real xehil-simd, in separate processes, with
// XEHIL_PRELOAD_STRICT=1. Each probe checks the kernel's behaviour itself
// and exits 0; this test checks the exit code, the interposer's stderr
// explanations and, over the control channel, that every file the probe
// opened was released when it exited.
//
// args: <libxehil_preload.so> <xehil-simd> <uapi_probe> <listener_probe>
//       <enomem_on_watch.textproto>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/simd.pb.h"
#include "sim/preload/preload_test_util.h"
#include "sim/simd/client.h"

namespace xehil::preload::testing {
namespace {

using ::testing::HasSubstr;

std::vector<std::string>& Args() {
  static std::vector<std::string> args;
  return args;
}
std::string Preload() { return Runfile(Args()[0]); }
std::string Daemon() { return Runfile(Args()[1]); }
std::string UapiProbe() { return Runfile(Args()[2]); }
std::string ListenerProbe() { return Runfile(Args()[3]); }
std::string EnomemScript() { return Runfile(Args()[4]); }

int CountLines(const std::string& text, const std::string& part) {
  int count = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StrContains(line, part)) ++count;
  }
  return count;
}

class PreloadIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PreloadList(Preload()).empty()) {
      GTEST_SKIP() << "ASan build, but its runtime library was not found "
                      "to load before the interposer";
    }
  }

  void StartDaemon(const std::vector<std::string>& flags = {}) {
    absl::StatusOr<std::unique_ptr<SimdDaemon>> daemon =
        SimdDaemon::Start(Daemon(), flags);
    ASSERT_TRUE(daemon.ok()) << daemon.status();
    daemon_ = *std::move(daemon);
  }

  // Runs a probe scenario and checks it passed and left no file open.
  void Probe(const std::string& program, const std::vector<std::string>& args) {
    CommandResult result =
        RunUnderPreload(Preload(), daemon_->socket(), program, args);
    EXPECT_EQ(result.exit_code, 0)
        << result.output << "\n--- xehil-simd log ---\n"
        << daemon_->Log();
    ExpectEverythingReleased();
  }

  // One control request; a failure is a test failure (empty reply).
  sim::ControlReply Control(const sim::ControlRequest& request) {
    absl::StatusOr<simd::Client> control = simd::Client::Connect(
        daemon_->socket(), simd::Role::kControl, "preload_integration_test");
    EXPECT_TRUE(control.ok()) << control.status();
    if (!control.ok()) return {};
    absl::StatusOr<sim::ControlReply> reply = control->Control(request);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? *reply : sim::ControlReply();
  }

  sim::DeviceStatus Status() {
    sim::ControlRequest request;
    request.mutable_status();
    return Control(request).status();
  }

  // Until no file of `pid` (0: of anyone) is open.
  void WaitReleased(uint32_t pid = 0) {
    sim::ControlRequest request;
    request.mutable_wait_released()->set_pid(pid);
    Control(request);
  }

  void ExpectEverythingReleased() {
    WaitReleased();
    status_ = Status();
    EXPECT_EQ(status_.files_size(), 0);
    EXPECT_EQ(status_.daemon().files_opened(),
              status_.daemon().files_released());
  }

  std::unique_ptr<SimdDaemon> daemon_;
  sim::DeviceStatus status_;  // after the last Probe
};

TEST(UapiProbe, ReachesTheFortifiedEntryPoints) {
  EXPECT_THAT(DynamicImports(UapiProbe()),
              ::testing::IsSupersetOf(
                  {"__open_2", "__read_chk", "__poll_chk", "__ppoll_chk"}));
}

TEST_F(PreloadIntegrationTest, RawUapiCallsReachTheSimulatedDevice) {
  StartDaemon();
  Probe(UapiProbe(), {"device"});
  uint64_t vm_creates = 0;
  for (const sim::IoctlCount& count : status_.counters().ioctls()) {
    if (count.name() == "VM_CREATE" && count.result() == 0) {
      vm_creates += count.count();
    }
  }
  EXPECT_EQ(vm_creates, 1u);
}

TEST_F(PreloadIntegrationTest, ForkedChildCopiesArgumentsOfItsOwnMemory) {
  StartDaemon();
  Probe(UapiProbe(), {"fork"});
}

TEST_F(PreloadIntegrationTest, OrdinaryFilesAndPipesAreUntouched) {
  StartDaemon();
  Probe(UapiProbe(), {"passthrough"});
  EXPECT_EQ(status_.daemon().files_opened(), 0u);
}

TEST_F(PreloadIntegrationTest, OnlyTheSimulatedNodesExist) {
  StartDaemon();
  Probe(UapiProbe(), {"nodes"});
  EXPECT_EQ(status_.daemon().files_opened(), 2u)
      << "refused opens must not reach the daemon";
}

TEST_F(PreloadIntegrationTest, NotificationPipeIoctlsGiveTheKernelsErrnos) {
  StartDaemon();
  Probe(UapiProbe(), {"pipes"});
}

TEST_F(PreloadIntegrationTest, ClosedWriteEndReadsEofAndPollsHup) {
  StartDaemon();
  Probe(UapiProbe(), {"eof"});
}

TEST_F(PreloadIntegrationTest, DupOfDrmFdKeepsTheFileUntilTheLastClose) {
  StartDaemon();
  absl::StatusOr<std::unique_ptr<PauseFifo>> fifo = PauseFifo::Create();
  ASSERT_TRUE(fifo.ok()) << fifo.status();
  auto probe = StartUnderPreload(Preload(), daemon_->socket(), UapiProbe(),
                                 {"dup"}, {(*fifo)->EnvEntry()});
  ASSERT_TRUE(probe.ok()) << probe.status();
  // Three of four descriptors of the file are closed: the daemon still has
  // it open.
  ASSERT_EQ((*probe)->NextStdoutLine(absl::Seconds(30)), "pause one-dup-left")
      << (*probe)->StderrText();
  EXPECT_EQ(Status().files_size(), 1);
  ASSERT_TRUE((*fifo)->Resume().ok());
  // The last one closed (and its removal record read): released.
  ASSERT_EQ((*probe)->NextStdoutLine(absl::Seconds(30)), "pause released")
      << (*probe)->StderrText();
  WaitReleased((*probe)->pid());
  EXPECT_EQ(Status().files_size(), 0);
  ASSERT_TRUE((*fifo)->Resume().ok());
  EXPECT_EQ((*probe)->WaitExit(absl::Seconds(30)), 0) << (*probe)->StderrText();
  ExpectEverythingReleased();
  EXPECT_EQ(status_.daemon().files_opened(), 1u);
}

TEST_F(PreloadIntegrationTest, LostDaemonMakesIoctlsFailWithEioAndSaysSoOnce) {
  StartDaemon();
  absl::StatusOr<std::unique_ptr<PauseFifo>> fifo = PauseFifo::Create();
  ASSERT_TRUE(fifo.ok()) << fifo.status();
  auto probe = StartUnderPreload(Preload(), daemon_->socket(), UapiProbe(),
                                 {"lost"}, {(*fifo)->EnvEntry()});
  ASSERT_TRUE(probe.ok()) << probe.status();
  ASSERT_EQ((*probe)->NextStdoutLine(absl::Seconds(30)), "pause connected")
      << (*probe)->StderrText();
  daemon_->Kill();
  ASSERT_TRUE((*fifo)->Resume().ok());
  EXPECT_EQ((*probe)->WaitExit(absl::Seconds(30)), 0) << (*probe)->StderrText();
  const std::string err = (*probe)->StderrText();
  EXPECT_EQ(CountLines(err, "lost the connection to xehil-simd"), 1) << err;
  EXPECT_THAT(err, HasSubstr("ioctls on simulated DRM files fail with EIO"));
  EXPECT_EQ(CountLines(err, "lost the notification-pipe connection"), 1) << err;
}

TEST_F(PreloadIntegrationTest, ListenerThreadAndRestartCallerRunTogether) {
  StartDaemon({"--script=" + EnomemScript()});
  Probe(ListenerProbe(), {});
  EXPECT_EQ(status_.counters().restarts_succeeded(), 1u);
  EXPECT_EQ(status_.counters().vms_paused(), 1u);
}

TEST_F(PreloadIntegrationTest, WithoutTheVariableThereIsNoDeviceAndItSaysWhy) {
  CommandResult result =
      RunUnderPreload(Preload(), /*socket=*/"", UapiProbe(), {"nodaemon"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  // One explanation per kind of failure, however often it happens.
  EXPECT_EQ(CountLines(result.output, "XEHIL_SIMD_SOCKET is not set"), 2)
      << result.output;
  EXPECT_THAT(result.output,
              HasSubstr("xehil-preload: open /dev/dri/renderD128: "
                        "XEHIL_SIMD_SOCKET is not set"));
  EXPECT_THAT(result.output,
              HasSubstr("xehil-preload: pipe2(O_NOTIFICATION_PIPE) fails "
                        "with ENOPKG"));
}

TEST_F(PreloadIntegrationTest, DaemonNotRunningIsNoDeviceAndSaysWhere) {
  CommandResult result = RunUnderPreload(
      Preload(), "/tmp/xehil-no-such-daemon.sock", UapiProbe(), {"nodaemon"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  EXPECT_EQ(CountLines(result.output, "cannot reach xehil-simd"), 2)
      << result.output;
  EXPECT_THAT(result.output,
              HasSubstr("connect /tmp/xehil-no-such-daemon.sock: ENOENT"));
}

}  // namespace
}  // namespace xehil::preload::testing

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc != 6) {
    fprintf(stderr,
            "usage: %s <preload.so> <xehil-simd> <uapi_probe> "
            "<listener_probe> <script>\n",
            argv[0]);
    return 2;
  }
  xehil::preload::testing::Args().assign(argv + 1, argv + argc);
  return RUN_ALL_TESTS();
}
