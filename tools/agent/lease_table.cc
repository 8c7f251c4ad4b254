#include "tools/agent/lease_table.h"

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tools/agent/structured_log.h"

namespace xehil::agent {
namespace {

// A random tag per table, so that ids of a previous agent run never match.
std::string RandomTag() {
  std::random_device rd;
  return absl::StrFormat("%08x", rd());
}

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

}  // namespace

const char* LeaseEndName(LeaseEnd end) {
  switch (end) {
    case LeaseEnd::kReleased:
      return "released";
    case LeaseEnd::kExpired:
      return "ttl";
    case LeaseEnd::kStreamDropped:
      return "stream-dropped";
    case LeaseEnd::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

LeaseTable::LeaseTable(LeaseLimits limits, ProviderLookup providers,
                       Logger logger)
    : limits_(std::move(limits)),
      providers_(std::move(providers)),
      logger_(std::move(logger)),
      id_prefix_(RandomTag()) {}

LeaseTable::~LeaseTable() { Shutdown(); }

LeaseInfo LeaseTable::Snapshot(const Entry& entry) const {
  LeaseInfo info = entry.info;
  info.remaining = std::max(absl::ZeroDuration(), info.expires - absl::Now());
  return info;
}

void LeaseTable::Log(const std::string& event, const LeaseInfo& info,
                     const std::string& extra_json) {
  if (!logger_) return;
  JsonLine line("lease");
  line.Add("event", event);
  if (!info.id.empty()) line.Add("lease", info.id);
  line.Add("provider", info.provider)
      .Add("region", static_cast<int64_t>(info.region_instance))
      .Add("bytes", info.bytes)
      .Add("ttl_ms", absl::ToInt64Milliseconds(info.ttl));
  if (!info.session.empty()) line.Add("session", info.session);
  line.Add("holder", info.holder);
  if (!info.note.empty()) line.Add("note", info.note);
  line.AddRaw(extra_json);
  logger_(line.Build());
}

absl::Status LeaseTable::Refused(const LeaseRequest& request,
                                 absl::Status status,
                                 const std::string& requested_json) {
  LeaseInfo info;
  info.provider = request.provider;
  info.region_instance = request.region_instance;
  info.bytes = request.bytes;
  info.ttl = request.ttl;
  info.session = request.session;
  info.holder = request.holder;
  info.note = request.note;
  Log("refused", info,
      absl::StrCat("\"code\":", JsonQuote(CodeName(status.code())),
                   ",\"reason\":", JsonQuote(status.message()),
                   requested_json.empty() ? ""
                                          : absl::StrCat(",\"requested\":{",
                                                         requested_json, "}")));
  return status;
}

absl::StatusOr<LeaseInfo> LeaseTable::Acquire(const LeaseRequest& request) {
  if (request.bytes == 0) {
    return Refused(request, absl::InvalidArgumentError("pressure of 0 bytes"));
  }
  if (request.ttl <= absl::ZeroDuration()) {
    return Refused(request, absl::InvalidArgumentError(
                                "every lease needs a TTL above zero"));
  }
  if (request.ttl > limits_.max_ttl) {
    return Refused(request, absl::InvalidArgumentError(absl::StrCat(
                                "TTL ", absl::FormatDuration(request.ttl),
                                " exceeds the agent's maximum of ",
                                absl::FormatDuration(limits_.max_ttl))));
  }
  absl::StatusOr<PressureInjector*> injector = providers_(request.provider);
  if (!injector.ok()) return Refused(request, injector.status());

  auto cap_it = limits_.max_bytes.find(request.provider);
  const uint64_t cap = cap_it == limits_.max_bytes.end() ? 0 : cap_it->second;
  absl::Status refused = [&]() -> absl::Status {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::UnavailableError("the agent is shutting down");
    if (!request.session.empty() &&
        session_holders_.count(request.session) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("stream session '", request.session,
                       "' is not open (its stream ended?)"));
    }
    if (reserved_leases_ >= limits_.max_leases) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the agent already holds ", reserved_leases_,
                       " leases, its maximum"));
    }
    uint64_t& reserved = reserved_bytes_[request.provider];
    if (cap != 0 && (request.bytes > cap || reserved > cap - request.bytes)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          request.provider, " pressure of ", DescribeBytes(request.bytes),
          " would exceed the agent's cap of ", DescribeBytes(cap), " (",
          DescribeBytes(reserved), " already held)"));
    }
    reserved += request.bytes;
    ++reserved_leases_;
    return absl::OkStatus();
  }();
  if (!refused.ok()) return Refused(request, refused);
  auto unreserve = [&] {
    absl::MutexLock lock(&mu_);
    reserved_bytes_[request.provider] -= request.bytes;
    --reserved_leases_;
  };

  // The slow part, without the lock; the table's reaper runs the TTL.
  absl::StatusOr<std::unique_ptr<PressureLease>> lease = (*injector)->Acquire(
      {request.region_instance, request.bytes, absl::ZeroDuration()});
  if (!lease.ok()) {
    unreserve();
    return Refused(request, lease.status());
  }

  Entry entry;
  entry.info.provider = request.provider;
  entry.info.region_instance = request.region_instance;
  entry.info.bytes = request.bytes;
  entry.info.ttl = request.ttl;
  entry.info.expires = absl::Now() + request.ttl;
  entry.info.session = request.session;
  entry.info.holder = request.holder;
  entry.info.note = request.note;
  entry.info.description = (*lease)->description();
  entry.lease = *std::move(lease);
  absl::Status late;
  LeaseInfo info;
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) {
      late = absl::UnavailableError("the agent is shutting down");
    } else if (!request.session.empty() &&
               session_holders_.count(request.session) == 0) {
      late = absl::FailedPreconditionError(
          absl::StrCat("stream session '", request.session,
                       "' ended while the pressure was taken"));
    } else {
      entry.info.id = absl::StrCat("lease-", id_prefix_, "-", next_id_++);
      const std::string id = entry.info.id;
      absl::StatusOr<LeaseReaper::Id> expiry =
          reaper_.Schedule(request.ttl, [this, id] { Expire(id); });
      if (!expiry.ok()) {
        late = expiry.status();  // no TTL would run: not handed out
      } else {
        entry.expiry = *expiry;
        info = Snapshot(entry);
        entries_.emplace(id, std::move(entry));
      }
    }
  }
  if (!late.ok()) {
    // `entry` was moved only when `late` is OK.
    // NOLINTNEXTLINE(bugprone-use-after-move)
    if (absl::Status released = entry.lease->Release(); !released.ok()) {
      late = absl::Status(
          late.code(),
          absl::StrCat(late.message(), "; releasing the ",
                       "pressure failed too: ", released.message()));
    }
    unreserve();
    return Refused(request, late);
  }
  Log("acquired", info,
      absl::StrCat("\"description\":", JsonQuote(info.description),
                   ",\"expires\":", JsonQuote(absl::FormatTime(info.expires))));
  return info;
}

absl::StatusOr<LeaseInfo> LeaseTable::Renew(const std::string& id,
                                            absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("a renewal needs a TTL above zero");
  }
  if (ttl > limits_.max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TTL ", absl::FormatDuration(ttl), " exceeds the agent's maximum of ",
        absl::FormatDuration(limits_.max_ttl)));
  }
  LeaseInfo info;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || !reaper_.Reschedule(it->second.expiry, ttl)) {
      // Not found, or its TTL is being reaped right now.
      return absl::NotFoundError(
          absl::StrCat("no lease '", id, "' (unknown, released or expired)"));
    }
    it->second.info.ttl = ttl;
    it->second.info.expires = absl::Now() + ttl;
    info = Snapshot(it->second);
  }
  Log("renewed", info,
      absl::StrCat("\"expires\":", JsonQuote(absl::FormatTime(info.expires))));
  return info;
}

absl::StatusOr<LeaseInfo> LeaseTable::Release(const std::string& id,
                                              const std::string& by) {
  std::vector<Entry> taken;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) {
      return absl::NotFoundError(
          absl::StrCat("no lease '", id, "' (unknown, released or expired)"));
    }
    reaper_.Cancel(it->second.expiry);
    taken.push_back(std::move(it->second));
    entries_.erase(it);
  }
  LeaseInfo info = Snapshot(taken.front());
  EndAll(std::move(taken), LeaseEnd::kReleased, by);
  return info;
}

void LeaseTable::Expire(const std::string& id) {
  std::vector<Entry> taken;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;  // released meanwhile
    taken.push_back(std::move(it->second));
    entries_.erase(it);
  }
  EndAll(std::move(taken), LeaseEnd::kExpired, "");
}

void LeaseTable::EndAll(std::vector<Entry> entries, LeaseEnd end,
                        const std::string& by) {
  for (Entry& entry : entries) {
    absl::Status released = entry.lease->Release();
    entry.lease.reset();
    {
      absl::MutexLock lock(&mu_);
      reserved_bytes_[entry.info.provider] -= entry.info.bytes;
      --reserved_leases_;
    }
    std::string extra =
        absl::StrCat("\"reason\":", JsonQuote(LeaseEndName(end)));
    if (!by.empty()) absl::StrAppend(&extra, ",\"by\":", JsonQuote(by));
    if (!released.ok()) {
      absl::StrAppend(&extra,
                      ",\"release_error\":", JsonQuote(released.ToString()));
    }
    Log("released", entry.info, extra);
    if (entry.info.session.empty() || end == LeaseEnd::kStreamDropped) {
      continue;
    }
    absl::MutexLock lock(&sessions_mu_);
    auto it = listeners_.find(entry.info.session);
    if (it != listeners_.end() && it->second) it->second(entry.info.id, end);
  }
}

}  // namespace xehil::agent
