// SysmemPressureInjector ("sysmem"): real system-memory pressure. Acquire
// maps anonymous memory in THIS process, locks it (mlock) and writes every
// page, so the kernel can neither reclaim nor swap it and this process's
// VmLck rises by the lease's bytes; releasing unlocks and unmaps it.
//
// Safety: it never takes memory that would leave less than `floor_bytes` of
// MemAvailable. The check runs before anything is mapped and again before
// each chunk, so memory that shrinks under it (other processes allocating)
// stops the acquisition with RESOURCE_EXHAUSTED and gives back what was
// taken. `max_bytes` caps the total held by all of this injector's leases.
//
// Signals: the memory belongs to this process, so whatever ends the process
// (SIGKILL included) gives it back; no signal handler is needed or installed.
// A graceful shutdown releases leases by destroying them.
//
//   SysmemPressureInjector::Options options;
//   options.floor_bytes = 2ull << 30;
//   SysmemPressureInjector injector(options);
//   auto lease = injector.Acquire({0, 512ull << 20, absl::Minutes(5)});
//
// Locking needs CAP_IPC_LOCK or a large enough RLIMIT_MEMLOCK; the error
// says so. Thread-safe; acquisitions run one at a time so that their floor
// checks cannot race each other.
#ifndef XEHIL_CORE_PRESSURE_SYSMEM_PRESSURE_INJECTOR_H_
#define XEHIL_CORE_PRESSURE_SYSMEM_PRESSURE_INJECTOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/pressure/lease_reaper.h"
#include "core/pressure/pressure_injector.h"

namespace xehil {

class SysmemPressureInjector : public PressureInjector {
 public:
  struct Options {
    // MemAvailable always left free.
    uint64_t floor_bytes = uint64_t{1} << 30;
    // Cap on the bytes held by all leases of this injector; 0: no cap.
    uint64_t max_bytes = 0;
    // Granularity of the floor re-check (rounded up to whole pages).
    uint64_t chunk_bytes = uint64_t{64} << 20;
    std::string meminfo_path = "/proc/meminfo";
    // Called after each chunk is locked, with the bytes taken so far
    // (tests shrink a fake meminfo here).
    std::function<void(uint64_t)> after_chunk_for_testing;
  };

  SysmemPressureInjector();
  explicit SysmemPressureInjector(Options options);

  std::string Name() const override { return "sysmem"; }
  // FAILED_PRECONDITION when MemAvailable cannot be read.
  absl::Status CheckAvailable() const override;
  // spec.region_instance is ignored. RESOURCE_EXHAUSTED (with the numbers)
  // below the floor or above max_bytes; mlock failures keep their errno.
  absl::StatusOr<std::unique_ptr<PressureLease>> Acquire(
      const PressureSpec& spec) override;

  // Bytes held by this injector's unreleased leases.
  uint64_t held_bytes() const;

  struct Budget;  // shared with the leases, which may outlive the injector

 private:
  // OK if `available` leaves the floor after taking `more` bytes.
  absl::Status CheckFloor(uint64_t available, uint64_t more, uint64_t taken,
                          uint64_t total) const;

  const Options options_;
  const std::shared_ptr<Budget> budget_;
  const std::shared_ptr<LeaseReaper> reaper_;
  absl::Mutex acquire_mu_;  // one acquisition at a time
};

// MemAvailable from a /proc/meminfo-format file, in bytes.
// FAILED_PRECONDITION when the file cannot be read or has no MemAvailable.
absl::StatusOr<uint64_t> ReadMemAvailable(
    absl::string_view meminfo_path = "/proc/meminfo");

}  // namespace xehil

#endif  // XEHIL_CORE_PRESSURE_SYSMEM_PRESSURE_INJECTOR_H_
