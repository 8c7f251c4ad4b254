#include "sim/preload/preload_test_util.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/base/errno_status.h"

namespace xehil::preload::testing {

std::string Runfile(const std::string& rootpath) {
  if (absl::StartsWith(rootpath, "/")) return rootpath;
  char cwd[4096];
  if (::getcwd(cwd, sizeof(cwd)) == nullptr) return rootpath;
  return absl::StrCat(cwd, "/", rootpath);
}

std::string PreloadList(const std::string& preload) {
#if defined(__SANITIZE_ADDRESS__)
  void* init = ::dlsym(RTLD_DEFAULT, "__asan_init");
  Dl_info info{};
  if (init == nullptr || ::dladdr(init, &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  return absl::StrCat(info.dli_fname, ":", preload);
#else
  return preload;
#endif
}

std::vector<std::string> DynamicImports(const std::string& path) {
  std::vector<std::string> imports;
  FILE* out =
      ::popen(absl::StrCat("readelf --dyn-syms --wide '", path, "' 2>/dev/null")
                  .c_str(),
              "r");
  if (out == nullptr) return imports;
  char line[4096];
  while (::fgets(line, sizeof(line), out) != nullptr) {
    // Num: Value Size Type Bind Vis Ndx Name
    std::vector<std::string> f =
        absl::StrSplit(line, absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
    if (f.size() >= 8 && f[6] == "UND") {
      imports.push_back(f[7].substr(0, f[7].find('@')));
    }
  }
  ::pclose(out);
  return imports;
}

absl::StatusOr<std::unique_ptr<SimdDaemon>> SimdDaemon::Start(
    const std::string& daemon_path, const std::vector<std::string>& flags) {
  char dir[] = "/tmp/xehil-preload-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return ErrnoToStatus(-errno, "mkdtemp");
  std::unique_ptr<SimdDaemon> daemon(new SimdDaemon());
  daemon->dir_ = dir;
  daemon->socket_ = absl::StrCat(dir, "/simd.sock");
  std::vector<std::string> args = {absl::StrCat("--socket=", daemon->socket_)};
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<std::unique_ptr<process_testing::ChildProcess>> process =
      process_testing::ChildProcess::Start(daemon_path, args);
  if (!process.ok()) return process.status();
  daemon->process_ = *std::move(process);
  std::optional<std::string> line =
      daemon->process_->NextStdoutLine(absl::Seconds(20));
  if (!line.has_value() || !absl::StartsWith(*line, "listening on ")) {
    return absl::UnavailableError(
        absl::StrCat("xehil-simd did not start: ", line.value_or("(no output)"),
                     "\n", daemon->process_->StderrText()));
  }
  return daemon;
}

SimdDaemon::~SimdDaemon() {
  if (process_ != nullptr) {
    process_->Signal(SIGTERM);
    process_->WaitExit(absl::Seconds(10));
  }
  ::unlink(socket_.c_str());
  ::rmdir(dir_.c_str());
}

namespace {

// env(1) arguments that run `program args...` under the interposer.
std::vector<std::string> PreloadCommand(const std::string& preload,
                                        const std::string& socket,
                                        const std::string& program,
                                        const std::vector<std::string>& args,
                                        const std::vector<std::string>& env) {
  // The child is not the Bazel test: it must not touch the files Bazel
  // gave this test (premature-exit marker, XML, shards).
  std::vector<std::string> argv = {
      "-u",
      "XEHIL_SIMD_SOCKET",
      "-u",
      "TEST_PREMATURE_EXIT_FILE",
      "-u",
      "XML_OUTPUT_FILE",
      "-u",
      "TEST_SHARD_STATUS_FILE",
      "-u",
      "TEST_SHARD_INDEX",
      "-u",
      "TEST_TOTAL_SHARDS",
      "XEHIL_PRELOAD_STRICT=1",
      absl::StrCat("LD_PRELOAD=", PreloadList(preload))};
  if (!socket.empty())
    argv.push_back(absl::StrCat("XEHIL_SIMD_SOCKET=", socket));
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(program);
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

CommandResult RunUnderPreload(const std::string& preload,
                              const std::string& socket,
                              const std::string& program,
                              const std::vector<std::string>& args,
                              const std::vector<std::string>& env) {
  return process_testing::RunCommand(
      "/usr/bin/env", PreloadCommand(preload, socket, program, args, env),
      absl::Seconds(60));
}

absl::StatusOr<std::unique_ptr<process_testing::ChildProcess>> StartUnderPreload(
    const std::string& preload, const std::string& socket,
    const std::string& program, const std::vector<std::string>& args,
    const std::vector<std::string>& env) {
  return process_testing::ChildProcess::Start(
      "/usr/bin/env", PreloadCommand(preload, socket, program, args, env));
}

void SimdDaemon::Kill() {
  process_->Signal(SIGKILL);
  process_->WaitExit(absl::Seconds(10));
}

absl::StatusOr<std::unique_ptr<PauseFifo>> PauseFifo::Create() {
  char dir[] = "/tmp/xehil-fifo-XXXXXX";
  if (::mkdtemp(dir) == nullptr) return ErrnoToStatus(-errno, "mkdtemp");
  std::unique_ptr<PauseFifo> fifo(new PauseFifo());
  fifo->dir_ = dir;
  fifo->path_ = absl::StrCat(dir, "/pause");
  if (::mkfifo(fifo->path_.c_str(), 0600) != 0) {
    return ErrnoToStatus(-errno, "mkfifo");
  }
  // O_RDWR: opening a FIFO so never blocks, and keeps it open for writing.
  fifo->fd_ = ::open(fifo->path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fifo->fd_ < 0) return ErrnoToStatus(-errno, "open fifo");
  return fifo;
}

PauseFifo::~PauseFifo() {
  if (fd_ >= 0) ::close(fd_);
  ::unlink(path_.c_str());
  ::rmdir(dir_.c_str());
}

std::string PauseFifo::EnvEntry() const {
  return absl::StrCat("XEHIL_PROBE_FIFO=", path_);
}

absl::Status PauseFifo::Resume() {
  const char byte = 'g';
  if (::write(fd_, &byte, 1) != 1) return ErrnoToStatus(-errno, "write fifo");
  return absl::OkStatus();
}

}  // namespace xehil::preload::testing
