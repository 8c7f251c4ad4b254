#include "tools/lab/testing/lab_test_util.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace xehil::lab::testing {

absl::StatusOr<AgentProcess> StartAgentProcess(
    const std::vector<std::string>& args) {
  std::vector<std::string> all = {"--listen=127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(kAgentBinary, all);
  if (!process.ok()) return process.status();
  AgentProcess agent;
  agent.process = *std::move(process);
  const std::string line =
      agent.process->NextStdoutLine(kLongWait).value_or("<none>");
  absl::string_view rest = line;
  int port = 0;
  if (!absl::ConsumePrefix(&rest, "listening on 127.0.0.1:") ||
      !absl::SimpleAtoi(rest, &port) || port <= 0) {
    return absl::InternalError(absl::StrCat(
        "agent's first line: '", line, "'\n", agent.process->StderrText()));
  }
  agent.address = absl::StrCat("127.0.0.1:", port);
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(agent.address, grpc::InsecureChannelCredentials());
  agent.stub = Agent::NewStub(channel);
  return agent;
}

DeadPort::DeadPort() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    address_ = "127.0.0.1:1";  // privileged, nothing of ours listens there
    return;
  }
  address_ = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
}

DeadPort::~DeadPort() {
  if (fd_ >= 0) close(fd_);
}

std::string WriteInventory(const std::string& name,
                           const std::vector<TestHost>& hosts,
                           const std::string& extra) {
  const std::string path =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name, ".textproto");
  std::ofstream out(path, std::ios::trunc);
  for (const TestHost& h : hosts) {
    out << "hosts { name: \"" << h.name << "\" address: \"" << h.address
        << "\"";
    for (const std::string& l : h.labels) out << " labels: \"" << l << "\"";
    out << " }\n";
  }
  out << extra;
  return path;
}

CommandResult RunLab(const std::vector<std::string>& args,
                     absl::Duration timeout) {
  return process_testing::RunCommand(kLabBinary, args, timeout);
}

absl::StatusOr<std::unique_ptr<ChildProcess>> StartLab(
    const std::vector<std::string>& args) {
  return ChildProcess::Start(kLabBinary, args);
}

std::vector<std::string> AcquiredLeaseIds(const std::string& output) {
  std::vector<std::string> ids;
  for (absl::string_view line : absl::StrSplit(output, '\n')) {
    const size_t at = line.find("| acquired ");
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = line.substr(at + 11);
    ids.emplace_back(rest.substr(0, rest.find(':')));
  }
  return ids;
}

std::optional<uint64_t> UsedBytes(Agent::Stub& stub, uint32_t instance) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoNanoseconds(kLongWait));
  AgentInfo info;
  if (!stub.GetInfo(&context, {}, &info).ok()) return std::nullopt;
  for (const MemoryRegionInfo& r : info.regions()) {
    if (r.instance() == instance) return r.used_bytes();
  }
  return std::nullopt;
}

}  // namespace xehil::lab::testing
