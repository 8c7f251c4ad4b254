#include "core/pressure/pressure_lease.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace xehil {

struct PressureLease::State {
  explicit State(std::unique_ptr<PressureHolding> h) : holding(std::move(h)) {}

  // The lock is held across holding->Release() so that a concurrent caller
  // returns only once the memory is really back.
  absl::Status Release(bool by_expiry) {
    absl::MutexLock lock(&mu);
    if (!released) {
      status = holding != nullptr ? holding->Release() : absl::OkStatus();
      holding.reset();
      released = true;
      expired = by_expiry;
    }
    return status;
  }

  mutable absl::Mutex mu;
  std::unique_ptr<PressureHolding> holding ABSL_GUARDED_BY(mu);
  bool released ABSL_GUARDED_BY(mu) = false;
  bool expired ABSL_GUARDED_BY(mu) = false;
  absl::Status status ABSL_GUARDED_BY(mu);
};

// The callback holds only a weak_ptr: a lease that is gone has released.
// The status is kept in the state; Release() reports it later.
std::function<void()> PressureLease::ExpiryCallback(
    const std::shared_ptr<State>& state) {
  return [weak = std::weak_ptr<State>(state)] {
    if (std::shared_ptr<State> s = weak.lock()) {
      s->Release(/*by_expiry=*/true).IgnoreError();
    }
  };
}

absl::StatusOr<std::unique_ptr<PressureLease>> PressureLease::Create(
    std::string description, uint64_t bytes,
    std::unique_ptr<PressureHolding> holding, absl::Duration ttl,
    std::shared_ptr<LeaseReaper> reaper) {
  auto state = std::make_shared<State>(std::move(holding));
  std::unique_ptr<PressureLease> lease(new PressureLease(
      std::move(description), bytes, std::move(state), std::move(reaper)));
  if (ttl > absl::ZeroDuration()) {
    absl::Status scheduled;
    {
      // Uncontended (nobody else can see the lease yet); taken for the
      // contract that mu_ guards reaper_ and expiry_.
      absl::MutexLock lock(&lease->mu_);
      if (lease->reaper_ == nullptr) {
        lease->reaper_ = std::make_shared<LeaseReaper>();
      }
      absl::StatusOr<LeaseReaper::Id> expiry =
          lease->reaper_->Schedule(ttl, ExpiryCallback(lease->state_));
      if (expiry.ok()) {
        lease->expiry_ = *expiry;
      } else {
        scheduled = expiry.status();
      }
    }
    if (!scheduled.ok()) {
      // A lease without its TTL could outlive its holder: give it back now.
      absl::Status released = lease->Release();
      return absl::Status(
          scheduled.code(),
          absl::StrCat(lease->description(), ": ", scheduled.message(),
                       released.ok()
                           ? "; the pressure was released"
                           : absl::StrCat("; releasing it failed too: ",
                                          released.message())));
    }
  }
  return lease;
}

PressureLease::PressureLease(std::string description, uint64_t bytes,
                             std::shared_ptr<State> state,
                             std::shared_ptr<LeaseReaper> reaper)
    : description_(std::move(description)),
      bytes_(bytes),
      state_(std::move(state)),
      reaper_(std::move(reaper)) {}

PressureLease::~PressureLease() { Release().IgnoreError(); }

absl::Status PressureLease::Release() {
  {
    absl::MutexLock lock(&mu_);
    if (expiry_ != 0) reaper_->Cancel(expiry_);
    expiry_ = 0;
  }
  // An expiry already running holds the state and the state's lock; this
  // waits for it, so the memory is back when Release() returns.
  return state_->Release(/*by_expiry=*/false);
}

bool PressureLease::released() const {
  absl::MutexLock lock(&state_->mu);
  return state_->released;
}

bool PressureLease::expired() const {
  absl::MutexLock lock(&state_->mu);
  return state_->expired;
}

bool PressureLease::WaitReleased(absl::Duration timeout) const {
  absl::MutexLock lock(&state_->mu);
  // Abseil's deadline arithmetic saturates: a huge timeout waits forever.
  return state_->mu.AwaitWithTimeout(absl::Condition(&state_->released),
                                     timeout);
}

absl::Status PressureLease::Renew(absl::Duration ttl) {
  if (ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease TTL must be positive, got ", absl::FormatDuration(ttl)));
  }
  absl::MutexLock lock(&mu_);
  if (released()) {
    return absl::FailedPreconditionError(
        absl::StrCat(description_, ": lease already released"));
  }
  if (expiry_ != 0) {
    if (reaper_->Reschedule(expiry_, ttl)) return absl::OkStatus();
    // The expiry is running or ran: too late to renew.
    return absl::FailedPreconditionError(
        absl::StrCat(description_, ": lease already expired"));
  }
  if (reaper_ == nullptr) reaper_ = std::make_shared<LeaseReaper>();
  absl::StatusOr<LeaseReaper::Id> expiry =
      reaper_->Schedule(ttl, ExpiryCallback(state_));
  if (!expiry.ok()) {
    return absl::Status(expiry.status().code(),
                        absl::StrCat(description_, ": cannot renew: ",
                                     expiry.status().message()));
  }
  expiry_ = *expiry;
  return absl::OkStatus();
}

}  // namespace xehil
