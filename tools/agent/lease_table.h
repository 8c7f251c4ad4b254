// LeaseTable: the agent's pressure leases. It enforces the agent's hard
// safety caps before anything is taken, owns every lease, ends each one
// exactly once — by its TTL, by Release, by the stream session it is bound
// to ending, or by Shutdown — and writes one structured log line (JSON) for
// every acquisition, refusal, renewal and end.
//
//   LeaseTable table(limits, [](const std::string& name) { return find(name);
//   },
//                    [](const std::string& json) { std::cerr << json << "\n";
//                    });
//   LeaseRequest request{"sim", /*region=*/1, 64 << 20, absl::Seconds(30)};
//   absl::StatusOr<LeaseInfo> lease = table.Acquire(request);
//   table.Renew(lease->id, absl::Seconds(30));
//   table.Release(lease->id);
//
// Sessions back HoldLeases streams: OpenSession() returns an id to bind
// leases to; CloseSession() (the stream dropped) releases them at once.
//
// The TTLs run on the table's own LeaseReaper, so the injectors' leases are
// taken without a TTL of their own. Checks are done with reservations under
// the table's lock, and the (possibly slow) acquisition runs outside it, so
// concurrent requests can never overshoot a cap together. Thread-safe.
#ifndef XEHIL_TOOLS_AGENT_LEASE_TABLE_H_
#define XEHIL_TOOLS_AGENT_LEASE_TABLE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_injector.h"
#include "core/pressure/pressure_lease.h"

namespace xehil::agent {

struct LeaseLimits {
  absl::Duration max_ttl = absl::Minutes(10);
  size_t max_leases = 16;
  // Cap on the bytes all leases of a provider hold at once; a provider
  // missing here (or 0) has no cap of the table's own.
  std::map<std::string, uint64_t> max_bytes;
};

struct LeaseRequest {
  std::string provider;
  uint16_t region_instance = 0;
  uint64_t bytes = 0;
  absl::Duration ttl = absl::ZeroDuration();
  std::string session;  // bind to this session ("" : unbound)
  std::string holder;   // who asks, for logs
  std::string note;
};

struct LeaseInfo {
  std::string id;
  std::string provider;
  uint16_t region_instance = 0;
  uint64_t bytes = 0;
  absl::Duration ttl;
  absl::Time expires;
  absl::Duration remaining;
  std::string session;
  std::string holder;
  std::string description;
  std::string note;
};

enum class LeaseEnd { kReleased, kExpired, kStreamDropped, kShutdown };

// "released", "ttl", "stream-dropped", "shutdown".
const char* LeaseEndName(LeaseEnd end);

class LeaseTable {
 public:
  // The injector for a provider name: INVALID_ARGUMENT for an unknown name,
  // FAILED_PRECONDITION (what is missing) for one that cannot work here.
  using ProviderLookup =
      std::function<absl::StatusOr<PressureInjector*>(const std::string&)>;
  // One JSON object per call, no newline.
  using Logger = std::function<void(const std::string&)>;
  // A bound lease ended for another reason than its session closing.
  using SessionListener =
      std::function<void(const std::string& lease_id, LeaseEnd end)>;

  LeaseTable(LeaseLimits limits, ProviderLookup providers, Logger logger);
  // Shutdown().
  ~LeaseTable();
  LeaseTable(const LeaseTable&) = delete;
  LeaseTable& operator=(const LeaseTable&) = delete;

  // INVALID_ARGUMENT: zero bytes, TTL <= 0 or above max_ttl, unknown
  // provider. RESOURCE_EXHAUSTED: max_leases or the provider's max_bytes
  // would be crossed (or the injector says the memory is not there).
  // FAILED_PRECONDITION: provider unavailable, session not open.
  // UNAVAILABLE after Shutdown. Nothing stays taken on error.
  absl::StatusOr<LeaseInfo> Acquire(const LeaseRequest& request);
  // INVALID_ARGUMENT for a bad TTL; NOT_FOUND for an unknown/ended lease.
  absl::StatusOr<LeaseInfo> Renew(const std::string& id, absl::Duration ttl);
  // NOT_FOUND for an unknown/ended lease. Returns the lease as it was; the
  // memory is back when this returns.
  absl::StatusOr<LeaseInfo> Release(const std::string& id,
                                    const std::string& by = "");

  std::vector<LeaseInfo> List() const;
  uint64_t HeldBytes(const std::string& provider) const;
  const LeaseLimits& limits() const { return limits_; }

  // A new session; `listener` hears of its leases ending by TTL, Release or
  // Shutdown. It is called without the table's lease lock, one call at a
  // time, and never after CloseSession(id) returns.
  std::string OpenSession(const std::string& holder, SessionListener listener);
  // Ends the session and releases its leases (stream dropped). Idempotent.
  void CloseSession(const std::string& id);

  // Releases every lease (logged as "shutdown") and refuses new ones.
  void Shutdown();

  // Logs the refusal of `request` for a reason found outside the table (a
  // malformed RPC) and returns `status`. `requested_json` (JSON fields, may
  // be empty) gives the values exactly as the caller sent them, logged as
  // "requested": `request` cannot hold every refused value (a negative byte
  // count, a region past 16 bits).
  absl::Status Refused(const LeaseRequest& request, absl::Status status,
                       const std::string& requested_json = "");

 private:
  struct Entry {
    LeaseInfo info;
    std::unique_ptr<PressureLease> lease;
    LeaseReaper::Id expiry = 0;
  };
  struct Session {
    std::string holder;
    SessionListener listener;
  };

  LeaseInfo Snapshot(const Entry& entry) const;
  // Releases what `entries` hold, logs, and tells their sessions (unless the
  // session is the one closing).
  void EndAll(std::vector<Entry> entries, LeaseEnd end, const std::string& by);
  void Expire(const std::string& id);
  void Log(const std::string& event, const LeaseInfo& info,
           const std::string& extra_json);

  const LeaseLimits limits_;
  const ProviderLookup providers_;
  const Logger logger_;
  const std::string id_prefix_;  // per table, so stale ids never match

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // Held + being acquired.
  std::map<std::string, uint64_t> reserved_bytes_ ABSL_GUARDED_BY(mu_);
  size_t reserved_leases_ ABSL_GUARDED_BY(mu_) = 0;
  // Open sessions.
  std::map<std::string, std::string> session_holders_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex sessions_mu_;  // held while a listener is called
  std::map<std::string, SessionListener> listeners_
      ABSL_GUARDED_BY(sessions_mu_);

  LeaseReaper reaper_;  // last: its thread calls Expire, joined first
};

}  // namespace xehil::agent

#endif  // XEHIL_TOOLS_AGENT_LEASE_TABLE_H_
