#include "tools/agent/agent_service.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/errno_status.h"
#include "core/pressure/sysmem_pressure_injector.h"
#include "core/uapi/xe_uapi.h"
#include "tools/agent/capabilities.h"
#include "tools/agent/structured_log.h"

namespace xehil::agent {
namespace {

const char* MemClassName(uint16_t mem_class) {
  return mem_class == DRM_XE_MEM_REGION_CLASS_VRAM ? "vram" : "sysmem";
}

constexpr int64_t kMaxTtlMs = int64_t{1} << 40;  // keeps Durations sane

// The shortest text that reads back as exactly `value` (StrCat keeps six
// digits: a refused 1.0000001 would print as "1").
std::string Exact(double value) {
  char text[64];
  const std::to_chars_result end =
      std::to_chars(text, text + sizeof(text), value);
  return std::string(text, end.ptr);
}

// The request's amounts as sent, as JSON fields, for the refusal log.
std::string RequestedJson(const lab::AcquirePressureRequest& request) {
  std::string out =
      absl::StrCat("\"region_instance\":", request.region_instance(),
                   ",\"ttl_ms\":", request.ttl_ms());
  switch (request.amount_case()) {
    case lab::AcquirePressureRequest::kBytes:
      absl::StrAppend(&out, ",\"bytes\":", request.bytes());
      break;
    case lab::AcquirePressureRequest::kFraction:
      // JSON has no NaN or infinity: those go as strings.
      absl::StrAppend(
          &out, ",\"fraction\":",
          std::isfinite(request.fraction())
              ? Exact(request.fraction())
              : absl::StrCat("\"", Exact(request.fraction()), "\""));
      break;
    case lab::AcquirePressureRequest::AMOUNT_NOT_SET:
      break;
  }
  return out;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

lab::Lease ToLeaseProto(const LeaseInfo& info) {
  lab::Lease lease;
  lease.set_lease_id(info.id);
  lease.set_provider(info.provider);
  lease.set_region_instance(info.region_instance);
  lease.set_bytes(info.bytes);
  lease.set_ttl_ms(absl::ToInt64Milliseconds(info.ttl));
  lease.set_expires_unix_ms(absl::ToUnixMillis(info.expires));
  lease.set_remaining_ms(absl::ToInt64Milliseconds(info.remaining));
  lease.set_bound_to_stream(info.session);
  lease.set_holder(info.holder);
  lease.set_description(info.description);
  lease.set_note(info.note);
  return lease;
}

AgentService::AgentService(std::unique_ptr<AgentBackend> backend,
                           Authorizer auth, AgentServiceOptions options)
    : backend_(std::move(backend)),
      auth_(std::move(auth)),
      options_(std::move(options)),
      leases_(
          options_.limits,
          [this](const std::string& name) { return backend_->Provider(name); },
          options_.logger ? options_.logger
                          : LeaseTable::Logger(WriteLogLine)) {}

AgentService::~AgentService() {
  BeginShutdown();
  WaitStreamsDone();
}

void AgentService::BeginShutdown() {
  if (shutting_down_.exchange(true)) return;
  leases_.Shutdown();
  events_.Close();
  streams_.EndAll(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                               "the agent is shutting down"));
}

void AgentService::WaitStreamsDone() { streams_.WaitAllDone(); }

void AgentService::FillProviders(lab::AgentInfo* info) {
  for (const std::string& name : AgentBackend::ProviderNames()) {
    lab::ProviderInfo* p = info->add_providers();
    p->set_name(name);
    PressureInjector* injector = backend_->ProviderOrNull(name);
    absl::Status available = injector == nullptr
                                 ? absl::NotFoundError("not built in")
                                 : injector->CheckAvailable();
    p->set_available(available.ok());
    if (!available.ok()) {
      p->set_unavailable_reason(std::string(available.message()));
    }
    auto cap = options_.limits.max_bytes.find(name);
    if (cap != options_.limits.max_bytes.end()) p->set_max_bytes(cap->second);
    p->set_held_bytes(leases_.HeldBytes(name));
    if (name == "sysmem") {
      p->set_floor_bytes(backend_->options().sysmem.floor_bytes);
      absl::StatusOr<uint64_t> mem =
          ReadMemAvailable(backend_->options().sysmem.meminfo_path);
      if (mem.ok()) p->set_mem_available_bytes(*mem);
    }
  }
}

grpc::Status AgentService::GetInfo(grpc::ServerContext* context,
                                   const lab::GetInfoRequest*,
                                   lab::AgentInfo* info) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kRead);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  info->set_host_name(HostName());
  info->set_agent_version(kAgentVersion);
  info->set_backend(backend_->name());
  info->set_device_description(backend_->device_description());
  if (!backend_->device_status().ok()) {
    info->set_device_error(std::string(backend_->device_status().message()));
  }
  absl::StatusOr<std::vector<MemRegion>> regions = backend_->Regions();
  if (regions.ok()) {
    for (const MemRegion& r : *regions) {
      lab::MemoryRegionInfo* out = info->add_regions();
      out->set_instance(r.instance);
      out->set_mem_class(MemClassName(r.mem_class));
      out->set_total_bytes(r.total_size);
      out->set_used_bytes(r.used);
      out->set_min_page_size(r.min_page_size);
    }
  } else if (info->device_error().empty()) {
    info->set_device_error(std::string(regions.status().message()));
  }
  *info->mutable_kernel() = ProbeKernel(options_.debugfs);
  if (backend_->name() == "sim") {
    info->mutable_backend_watch_queue()->set_available(true);
    info->mutable_backend_watch_queue()->set_detail(
        "simulated notification pipes");
  } else {
    *info->mutable_backend_watch_queue() = info->kernel().watch_queue();
  }
  FillProviders(info);
  info->mutable_limits()->set_max_ttl_ms(
      absl::ToInt64Milliseconds(options_.limits.max_ttl));
  info->mutable_limits()->set_max_leases(options_.limits.max_leases);
  for (const LeaseInfo& lease : leases_.List()) {
    *info->add_leases() = ToLeaseProto(lease);
  }
  info->set_caller_role(RoleName(caller->role));
  return grpc::Status::OK;
}

absl::StatusOr<LeaseRequest> AgentService::ToLeaseRequest(
    const lab::AcquirePressureRequest& request, const Caller& caller) {
  // The request's own shape first (INVALID_ARGUMENT), then whether the
  // provider works here (FAILED_PRECONDITION), then the target region.
  if (request.provider().empty()) {
    return absl::InvalidArgumentError("no provider (sim, sysmem or xe-vram)");
  }
  if (request.ttl_ms() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_ms must be above zero (got ", request.ttl_ms(),
                     "): every lease needs a TTL"));
  }
  if (request.ttl_ms() > kMaxTtlMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("ttl_ms ", request.ttl_ms(), " is absurdly large"));
  }
  if (request.region_instance() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "region_instance ", request.region_instance(), " is out of range"));
  }
  switch (request.amount_case()) {
    case lab::AcquirePressureRequest::kBytes:
      if (request.bytes() <= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "bytes must be above zero (got ", request.bytes(), ")"));
      }
      break;
    case lab::AcquirePressureRequest::kFraction: {
      const double f = request.fraction();
      if (!std::isfinite(f) || f <= 0.0 || f > 1.0) {
        return absl::InvalidArgumentError(
            absl::StrCat("fraction must be in (0, 1] of the region's total "
                         "(got ",
                         Exact(f), ")"));
      }
      break;
    }
    case lab::AcquirePressureRequest::AMOUNT_NOT_SET:
      return absl::InvalidArgumentError("neither bytes nor fraction given");
  }
  XEHIL_RETURN_IF_ERROR(backend_->Provider(request.provider()).status());

  LeaseRequest out;
  out.provider = request.provider();
  out.region_instance = static_cast<uint16_t>(request.region_instance());
  out.ttl = absl::Milliseconds(request.ttl_ms());
  out.session = request.bind_to_stream();
  out.holder = caller.identity;
  out.note = request.note();
  out.bytes = static_cast<uint64_t>(std::max<int64_t>(0, request.bytes()));
  // The region must exist (sysmem has none to name); fractions need its size.
  if (out.provider != "sysmem" ||
      request.amount_case() == lab::AcquirePressureRequest::kFraction) {
    XEHIL_ASSIGN_OR_RETURN(
        uint64_t total,
        backend_->RegionTotal(out.provider, out.region_instance));
    if (request.amount_case() == lab::AcquirePressureRequest::kFraction) {
      out.bytes = static_cast<uint64_t>(request.fraction() *
                                        static_cast<double>(total));
      if (out.bytes == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("fraction ", Exact(request.fraction()), " of ", total,
                         " bytes is 0"));
      }
    }
  }
  return out;
}

grpc::Status AgentService::AcquirePressure(
    grpc::ServerContext* context, const lab::AcquirePressureRequest* request,
    lab::Lease* response) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kAdmin);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<LeaseRequest> lease_request =
      ToLeaseRequest(*request, *caller);
  if (!lease_request.ok()) {
    LeaseRequest shown;  // what fits a LeaseRequest; the rest exactly below
    shown.provider = request->provider();
    if (request->region_instance() <= std::numeric_limits<uint16_t>::max()) {
      shown.region_instance = static_cast<uint16_t>(request->region_instance());
    }
    shown.ttl = absl::Milliseconds(request->ttl_ms());
    shown.session = request->bind_to_stream();
    shown.holder = caller->identity;
    shown.note = request->note();
    return ToGrpcStatus(leases_.Refused(shown, lease_request.status(),
                                        RequestedJson(*request)));
  }
  absl::StatusOr<LeaseInfo> lease = leases_.Acquire(*lease_request);
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  *response = ToLeaseProto(*lease);
  return grpc::Status::OK;
}

grpc::Status AgentService::RenewLease(grpc::ServerContext* context,
                                      const lab::RenewLeaseRequest* request,
                                      lab::Lease* response) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kAdmin);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->ttl_ms() <= 0 || request->ttl_ms() > kMaxTtlMs) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "ttl_ms must be in 1..", kMaxTtlMs, " (got ", request->ttl_ms(), ")")));
  }
  absl::StatusOr<LeaseInfo> lease =
      leases_.Renew(request->lease_id(), absl::Milliseconds(request->ttl_ms()));
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  *response = ToLeaseProto(*lease);
  return grpc::Status::OK;
}

grpc::Status AgentService::ReleasePressure(
    grpc::ServerContext* context, const lab::ReleasePressureRequest* request,
    lab::Lease* response) {
  absl::StatusOr<Caller> caller = auth_.Check(*context, Access::kAdmin);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<LeaseInfo> lease =
      leases_.Release(request->lease_id(), caller->identity);
  if (!lease.ok()) return ToGrpcStatus(lease.status());
  *response = ToLeaseProto(*lease);
  return grpc::Status::OK;
}

}  // namespace xehil::agent
