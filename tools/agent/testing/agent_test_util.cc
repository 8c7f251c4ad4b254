#include "tools/agent/testing/agent_test_util.h"

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

namespace xehil::agent::testing {

LeaseTable::Logger LogCapture::logger() {
  return [this](const std::string& line) { Add(line); };
}

void LogCapture::Add(const std::string& line) {
  absl::MutexLock lock(&mu_);
  lines_.push_back(line);
}

bool LogCapture::HasLocked(const std::vector<std::string>& parts) const {
  for (const std::string& line : lines_) {
    bool all = true;
    for (const std::string& part : parts) {
      all = all && absl::StrContains(line, part);
    }
    if (all) return true;
  }
  return false;
}

bool LogCapture::WaitFor(const std::vector<std::string>& parts,
                         absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto logged = [&] {
    mu_.AssertReaderHeld();
    return HasLocked(parts);
  };
  return mu_.AwaitWithTimeout(absl::Condition(&logged), timeout);
}

std::vector<std::string> LogCapture::lines() const {
  absl::MutexLock lock(&mu_);
  return lines_;
}

std::string LogCapture::text() const { return absl::StrJoin(lines(), "\n"); }

InProcessOptions DefaultInProcessOptions() {
  InProcessOptions options;
  options.backend.backend = "sim";
  options.backend.device_profile = "dg2-16g";
  options.backend.sysmem.floor_bytes = uint64_t{64} << 20;
  options.backend.sysmem.chunk_bytes = uint64_t{8} << 20;
  options.service.limits.max_ttl = absl::Minutes(5);
  options.service.limits.max_leases = 8;
  options.service.debugfs = "/nonexistent-debugfs";
  return options;
}

InProcessAgent::InProcessAgent(InProcessOptions options)
    : options_(std::move(options)) {}

InProcessAgent::~InProcessAgent() { Stop(); }

absl::Status InProcessAgent::Start() {
  XEHIL_ASSIGN_OR_RETURN(std::unique_ptr<AgentBackend> backend,
                         AgentBackend::Create(options_.backend));
  Authorizer auth = Authorizer::AllowAll();
  if (options_.token_text.has_value()) {
    XEHIL_ASSIGN_OR_RETURN(
        auth, Authorizer::FromTokenText(*options_.token_text, "tokens"));
  }
  AgentServiceOptions service_options = options_.service;
  service_options.logger = log_.logger();
  service_ = std::make_unique<AgentService>(std::move(backend), std::move(auth),
                                            service_options);
  ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.token_auth = options_.token_text.has_value();
  XEHIL_ASSIGN_OR_RETURN(server_, StartAgentServer(*service_, server_options));
  address_ = server_.address;
  channel_ = InsecureChannel(address_);
  stub_ = lab::Agent::NewStub(channel_);
  return absl::OkStatus();
}

void InProcessAgent::Stop() {
  if (stopped_ || service_ == nullptr) return;
  stopped_ = true;
  service_->BeginShutdown();
  server_.server->Shutdown(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(500));
  service_->WaitStreamsDone();
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(deadline));
  if (!token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }
  return context;
}

std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address) {
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  channel->WaitForConnected(std::chrono::system_clock::now() +
                            absl::ToChronoNanoseconds(kLongWait));
  return channel;
}

std::optional<uint64_t> UsedBytes(lab::Agent::Stub& stub, uint32_t instance,
                                  const std::string& token) {
  lab::AgentInfo info;
  std::unique_ptr<grpc::ClientContext> context = Context(token);
  if (!stub.GetInfo(context.get(), {}, &info).ok()) return std::nullopt;
  for (const lab::MemoryRegionInfo& region : info.regions()) {
    if (region.instance() == instance) return region.used_bytes();
  }
  return std::nullopt;
}

lab::AcquirePressureRequest SimRequest(uint32_t region, int64_t bytes,
                                       int64_t ttl_ms) {
  lab::AcquirePressureRequest request;
  request.set_provider("sim");
  request.set_region_instance(region);
  request.set_bytes(bytes);
  request.set_ttl_ms(ttl_ms);
  return request;
}

}  // namespace xehil::agent::testing
