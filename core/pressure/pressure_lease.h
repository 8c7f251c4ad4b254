// PressureLease: memory pressure held on behalf of someone, given back exactly
// once: by Release(), by destruction, or when its TTL expires (on a
// LeaseReaper's thread). Every PressureInjector hands these out; what is
// actually held (simulator pressure, locked pages, VRAM BOs) sits behind the
// small PressureHolding interface.
//
//   XEHIL_ASSIGN_OR_RETURN(
//       std::unique_ptr<PressureLease> lease,
//       PressureLease::Create("sim region 1", bytes, std::move(holding),
//                             absl::Seconds(30), reaper));
//   lease->Renew(absl::Seconds(30));  // the lab agent's renew
//   absl::Status s = lease->Release();  // idempotent
//
// Release, destruction and TTL expiry may race: whichever comes first gives
// the memory back and the others wait until it is back. Thread-safe, except
// that the lease must not be destroyed while another thread calls into it.
#ifndef XEHIL_CORE_PRESSURE_PRESSURE_LEASE_H_
#define XEHIL_CORE_PRESSURE_PRESSURE_LEASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/pressure/lease_reaper.h"

namespace xehil {

// What a lease keeps taken.
class PressureHolding {
 public:
  virtual ~PressureHolding() = default;
  // Gives everything back. The lease calls it exactly once, then destroys
  // the holding; it may run on the reaper thread.
  virtual absl::Status Release() = 0;
};

class PressureLease {
 public:
  // With ttl > 0 the lease releases itself after `ttl`, on `reaper`'s thread
  // (a private reaper when none is given). ttl <= 0: no expiry. If the
  // expiry cannot be scheduled (no thread for the reaper) the holding is
  // released at once and the error returned, naming the lease (and saying
  // whether that release failed too).
  static absl::StatusOr<std::unique_ptr<PressureLease>> Create(
      std::string description, uint64_t bytes,
      std::unique_ptr<PressureHolding> holding, absl::Duration ttl,
      std::shared_ptr<LeaseReaper> reaper);

  // Releases (waiting for a release in progress on another thread).
  ~PressureLease();
  PressureLease(const PressureLease&) = delete;
  PressureLease& operator=(const PressureLease&) = delete;

  // "sysmem: 64.0 MiB", for logs and the agent's lease listing.
  const std::string& description() const { return description_; }
  uint64_t bytes() const { return bytes_; }

  // Gives the memory back. Idempotent: every call returns the status of the
  // one release that happened (by Release, destruction or expiry).
  absl::Status Release();
  bool released() const;
  // True if the TTL, not Release(), ended the lease.
  bool expired() const;
  // Blocks until the lease is released or `timeout` passes; true if released.
  bool WaitReleased(absl::Duration timeout) const;

  // Moves the expiry to now + `ttl` (also gives a lease without TTL one).
  // INVALID_ARGUMENT for ttl <= 0; FAILED_PRECONDITION once released.
  absl::Status Renew(absl::Duration ttl);

 private:
  struct State;  // shared with the reaper callback, which holds a weak_ptr

  PressureLease(std::string description, uint64_t bytes,
                std::shared_ptr<State> state,
                std::shared_ptr<LeaseReaper> reaper);
  static std::function<void()> ExpiryCallback(
      const std::shared_ptr<State>& state);

  const std::string description_;
  const uint64_t bytes_;
  const std::shared_ptr<State> state_;
  absl::Mutex mu_;
  std::shared_ptr<LeaseReaper> reaper_ ABSL_GUARDED_BY(mu_);
  LeaseReaper::Id expiry_ ABSL_GUARDED_BY(mu_) = 0;  // 0: no TTL scheduled
};

}  // namespace xehil

#endif  // XEHIL_CORE_PRESSURE_PRESSURE_LEASE_H_
