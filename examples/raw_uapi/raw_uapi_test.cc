// The raw-UAPI C programs, unchanged, under `xehil sim-run`: the single
// program that restarts its VM on a scripted -ENOMEM, and two processes
// sharing one simulated GPU (a VRAM hog evicting a workload's VMs, which
// recover once the hog exits).
#include <signal.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/preload/preload_test_util.h"
#include "common/testing/child_process.h"
#include "vxe/tests/vm_run_skip.h"

namespace xehil {
namespace {

using process_testing::ChildProcess;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kXehil[] = "tools/xehil/xehil";
constexpr char kSimd[] = "sim/simd/xehil-simd";
constexpr char kRestartOnEnomem[] = "examples/raw_uapi/restart_on_enomem";
constexpr char kVramShare[] = "examples/raw_uapi/vram_share";
constexpr char kLossSequence[] = "examples/raw_uapi/loss_sequence";
constexpr char kRestartStatic[] = "examples/raw_uapi/restart_on_enomem_static";
constexpr char kScript[] = "examples/raw_uapi/enomem_on_watch.textproto";
// Only reached when something is broken.
constexpr absl::Duration kLongWait = absl::Seconds(30);

// Starts `xehil sim-run ARGS...`. In ASan builds the sanitizer runtime must
// be loaded before the interposer that sim-run adds to LD_PRELOAD, so it is
// put there first (sim-run appends to an existing value).
absl::StatusOr<std::unique_ptr<ChildProcess>> StartSimRun(
    std::vector<std::string> args) {
  args.insert(args.begin(), "sim-run");
  const std::string sanitizer = preload::testing::PreloadList("");
  if (sanitizer.empty()) return ChildProcess::Start(kXehil, args);
  args.insert(
      args.begin(),
      {absl::StrCat("LD_PRELOAD=", sanitizer.substr(0, sanitizer.size() - 1)),
       preload::testing::Runfile(kXehil)});
  return ChildProcess::Start("/usr/bin/env", args);
}

// The next stdout line containing `part`; nullopt at EOF or timeout.
std::optional<std::string> LineWith(ChildProcess& process,
                                    const std::string& part) {
  for (;;) {
    std::optional<std::string> line = process.NextStdoutLine(kLongWait);
    if (!line.has_value() || line->find(part) != std::string::npos) {
      return line;
    }
  }
}

TEST(RawUapiProgram, RestartsItsVmWhenAScriptedEnomemArrives) {
  absl::StatusOr<std::unique_ptr<ChildProcess>> run =
      StartSimRun({absl::StrCat("--script=", kScript), "--",
                   preload::testing::Runfile(kRestartOnEnomem)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->WaitExit(kLongWait), 0) << (*run)->StderrText();
  const std::string out = (*run)->StdoutText();
  EXPECT_THAT(out, HasSubstr("VM_ERR vm=1 error=-12"));
  EXPECT_THAT(out, HasSubstr("vm 1 recovered"));
  // What the simulated device saw, as sim-run prints it.
  const std::string summary = (*run)->StderrText();
  EXPECT_THAT(summary, HasSubstr("exited with status 0"));
  EXPECT_THAT(summary, HasSubstr("1 opened, 1 released"));
  EXPECT_THAT(summary, HasSubstr("WATCH_QUEUE        1 ok"));
  EXPECT_THAT(summary, HasSubstr("VM_RESTART         1 ok, 1 EALREADY"));
  EXPECT_THAT(summary, HasSubstr("restarts:  1 (1 succeeded"));
  EXPECT_THAT(summary, HasSubstr("fired 1 time"));
}

TEST(RawUapiProgram, WithoutItsFaultNoVmErrorArrivesAndItSaysSo) {
  // No script: nothing fails, so the program waits for a VM_ERR that never
  // comes and reports the timeout (its own 10 s wait) instead of hanging.
  absl::StatusOr<std::unique_ptr<ChildProcess>> run =
      StartSimRun({"--", preload::testing::Runfile(kRestartOnEnomem)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->WaitExit(kLongWait), 1);
  EXPECT_THAT((*run)->StderrText(),
              HasSubstr("waiting for VM_ERR: Connection timed out"));
}

TEST(TwoProcesses, HogEvictsAWorkloadThatRecoversOnceTheHogExits) {
  absl::StatusOr<std::unique_ptr<preload::testing::SimdDaemon>> daemon =
      preload::testing::SimdDaemon::Start(preload::testing::Runfile(kSimd),
                                          {"--device-profile=dg2-16g"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const std::string socket = absl::StrCat("--socket=", (*daemon)->socket());
  const std::string program = preload::testing::Runfile(kVramShare);

  absl::StatusOr<std::unique_ptr<ChildProcess>> workload =
      StartSimRun({socket, "--", program, "workload"});
  ASSERT_TRUE(workload.ok()) << workload.status();
  ASSERT_TRUE(LineWith(**workload, "ready").has_value())
      << (*workload)->StderrText();

  absl::StatusOr<std::unique_ptr<ChildProcess>> hog =
      StartSimRun({socket, "--", program, "hog"});
  ASSERT_TRUE(hog.ok()) << hog.status();
  std::optional<std::string> holding = LineWith(**hog, "holding");
  ASSERT_TRUE(holding.has_value()) << (*hog)->StderrText();
  EXPECT_THAT(*holding, HasSubstr("holding 16384 MiB"));

  // The hog's buffers evicted the workload's; its rebind cannot place them.
  std::optional<std::string> error = LineWith(**workload, "VM_ERR");
  ASSERT_TRUE(error.has_value()) << (*workload)->StderrText();
  EXPECT_THAT(*error, HasSubstr("error=-28"));

  // sim-run forwards SIGTERM; the hog exits and its file's buffers go.
  (*hog)->Signal(SIGTERM);
  EXPECT_EQ((*hog)->WaitExit(kLongWait), 0) << (*hog)->StderrText();
  EXPECT_THAT((*hog)->StderrText(), HasSubstr("1 opened, 1 released"));

  EXPECT_EQ((*workload)->WaitExit(kLongWait), 0) << (*workload)->StderrText();
  EXPECT_THAT((*workload)->StdoutText(), HasSubstr("recovered after"));
  EXPECT_THAT((*workload)->StdoutText(),
              Not(HasSubstr("error=-12")));  // only VRAM, never sysmem
}

// Runs loss_sequence (with `extra` arguments) under sim-run on its own
// daemon, with the script that fails each file's VMs once it subscribes.
std::unique_ptr<ChildProcess> RunLossSequence(
    const std::vector<std::string>& extra) {
  std::vector<std::string> args = {absl::StrCat("--script=", kScript), "--",
                                   preload::testing::Runfile(kLossSequence),
                                   "40"};
  args.insert(args.end(), extra.begin(), extra.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> run = StartSimRun(args);
  EXPECT_TRUE(run.ok()) << run.status();
  return run.ok() ? *std::move(run) : nullptr;
}

// 40 errors into a one-page ring give the sequence measured on a real 6.12
// kernel.
TEST(RawUapiProgram, SeesTheKernelsSequenceWhenItsRingOverflows) {
  std::unique_ptr<ChildProcess> run = RunLossSequence({});
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->WaitExit(kLongWait), 0)
      << run->StdoutText() << run->StderrText();
  const std::string out = run->StdoutText();
  EXPECT_THAT(out, HasSubstr("read #1: 768 bytes"));
  EXPECT_THAT(out, HasSubstr("poll: 0"));
  EXPECT_THAT(out, HasSubstr("FIONREAD: 0"));
  EXPECT_THAT(out,
              HasSubstr("read into 4 bytes: -1 (No buffer space available)"));
  EXPECT_THAT(out, HasSubstr("read #2: 8 bytes (loss)"));
  EXPECT_THAT(out, HasSubstr("read #3: -1 (Resource temporarily unavailable)"));
  EXPECT_THAT(run->StderrText(), Not(HasSubstr("hint:")));
}

TEST(RawUapiProgram, SimRunNamesALossRecordLeftUnread) {
  std::unique_ptr<ChildProcess> run = RunLossSequence({"--read-once"});
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->WaitExit(kLongWait), 0) << run->StderrText();
  EXPECT_THAT(run->StderrText(), HasSubstr("left a loss record unread"));
}

// ---- The same programs on the real kernel (vxe under QEMU) ----

absl::StatusOr<std::unique_ptr<ChildProcess>> StartVmRun(
    std::vector<std::string> args) {
  args.insert(args.begin(), {"vm-run", "--timeout=100"});
  return ChildProcess::Start(kXehil, args);
}

TEST(OnTheRealKernel, RestartOnEnomemRecoversItsVm) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> run =
      StartVmRun({absl::StrCat("--script=", kScript), "--",
                  preload::testing::Runfile(kRestartOnEnomem)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->WaitExit(kLongWait * 4), 0) << (*run)->StderrText();
  EXPECT_THAT((*run)->StdoutText(), HasSubstr("VM_ERR vm=1 error=-12"));
  EXPECT_THAT((*run)->StdoutText(), HasSubstr("vm 1 recovered"));
}

TEST(OnTheRealKernel, AStaticBuildRunsToo) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> run =
      StartVmRun({absl::StrCat("--script=", kScript), "--",
                  preload::testing::Runfile(kRestartStatic)});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ((*run)->WaitExit(kLongWait * 4), 0) << (*run)->StderrText();
  EXPECT_THAT((*run)->StdoutText(), HasSubstr("vm 1 recovered"));
}

// The differential check that keeps the simulator honest: one schedule of
// posts, reads, polls and FIONREADs (loss_sequence), on the kernel's own
// notification pipe and through the interposer's emulation, must print the
// same lines.
TEST(OnTheRealKernel, LossSequenceIsTheSameOnTheKernelAndTheSimulator) {
  if (std::string missing = vxe::testing::WhyVmRunCannotBoot();
      !missing.empty()) {
    GTEST_SKIP() << missing;
  }
  absl::StatusOr<std::unique_ptr<ChildProcess>> kernel =
      StartVmRun({absl::StrCat("--script=", kScript), "--",
                  preload::testing::Runfile(kLossSequence), "40"});
  ASSERT_TRUE(kernel.ok()) << kernel.status();
  EXPECT_EQ((*kernel)->WaitExit(kLongWait * 4), 0) << (*kernel)->StderrText();
  std::unique_ptr<ChildProcess> simulated = RunLossSequence({});
  ASSERT_NE(simulated, nullptr);
  EXPECT_EQ(simulated->WaitExit(kLongWait), 0) << simulated->StderrText();

  const std::string on_kernel = (*kernel)->StdoutText();
  EXPECT_THAT(on_kernel, HasSubstr("kernel sequence: yes"));
  EXPECT_EQ(simulated->StdoutText(), on_kernel);
}

}  // namespace
}  // namespace xehil
