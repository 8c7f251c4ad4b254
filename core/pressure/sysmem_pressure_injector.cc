#include "core/pressure/sysmem_pressure_injector.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/base/errno_status.h"

namespace xehil {

struct SysmemPressureInjector::Budget {
  absl::Mutex mu;
  uint64_t held ABSL_GUARDED_BY(mu) = 0;
};

namespace {

// The sanitizer runtimes replace mlock/munlock with silent no-ops (mlockall
// over their huge shadow mappings can wedge the kernel). Locking one range
// is safe, and the pressure must be real in every build: ask the kernel.
int LockRange(void* addr, uint64_t length) {
  return static_cast<int>(syscall(SYS_mlock, addr, length));
}
int UnlockRange(void* addr, uint64_t length) {
  return static_cast<int>(syscall(SYS_munlock, addr, length));
}

uint64_t RoundUp(uint64_t value, uint64_t unit) {
  return (value + unit - 1) / unit * unit;
}

// One locked anonymous mapping. Destroying it without Release (a failed
// acquisition) unmaps too; only a counted holding debits the budget.
class LockedMapping : public PressureHolding {
 public:
  LockedMapping(char* addr, uint64_t length) : addr_(addr), length_(length) {}
  ~LockedMapping() override {
    if (addr_ != nullptr) munmap(addr_, length_);  // also unlocks
  }

  void set_locked(uint64_t bytes) { locked_ = bytes; }
  void Count(std::shared_ptr<SysmemPressureInjector::Budget> budget) {
    absl::MutexLock lock(&budget->mu);
    budget->held += length_;
    budget_ = std::move(budget);
  }

  absl::Status Release() override {
    absl::Status status;
    if (locked_ > 0 && UnlockRange(addr_, locked_) != 0) {
      status = ErrnoToStatus(-errno, "munlock of sysmem pressure");
    }
    if (munmap(addr_, length_) != 0 && status.ok()) {
      status = ErrnoToStatus(-errno, "munmap of sysmem pressure");
    }
    addr_ = nullptr;
    if (budget_ != nullptr) {
      absl::MutexLock lock(&budget_->mu);
      budget_->held -= length_;
    }
    return status;
  }

 private:
  char* addr_;
  const uint64_t length_;
  uint64_t locked_ = 0;
  std::shared_ptr<SysmemPressureInjector::Budget> budget_;
};

absl::Status MlockError(int err, uint64_t bytes) {
  std::string context = absl::StrCat("mlock of ", DescribeBytes(bytes));
  if (err == ENOMEM || err == EPERM) {
    rlimit limit{};
    getrlimit(RLIMIT_MEMLOCK, &limit);
    absl::StrAppend(&context, " (RLIMIT_MEMLOCK soft ", limit.rlim_cur,
                    ", hard ", limit.rlim_max,
                    " bytes; raise it or grant CAP_IPC_LOCK)");
  }
  return ErrnoToStatus(-err, context);
}

}  // namespace

absl::StatusOr<uint64_t> ReadMemAvailable(absl::string_view meminfo_path) {
  std::ifstream in{std::string(meminfo_path)};
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read ", meminfo_path));
  }
  std::string line;
  while (std::getline(in, line)) {
    // "MemAvailable:   22855292 kB"
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint64_t kib = 0;
    if (fields.size() == 3 && fields[0] == "MemAvailable:" &&
        fields[2] == "kB" && absl::SimpleAtoi(fields[1], &kib)) {
      return kib * 1024;
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      meminfo_path, " has no MemAvailable line (kernel older than 3.14?)"));
}

SysmemPressureInjector::SysmemPressureInjector()
    : SysmemPressureInjector(Options()) {}

SysmemPressureInjector::SysmemPressureInjector(Options options)
    : options_(std::move(options)),
      budget_(std::make_shared<Budget>()),
      reaper_(std::make_shared<LeaseReaper>()) {}

absl::Status SysmemPressureInjector::CheckAvailable() const {
  absl::StatusOr<uint64_t> available = ReadMemAvailable(options_.meminfo_path);
  if (!available.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "sysmem pressure needs MemAvailable: ", available.status().message()));
  }
  return absl::OkStatus();
}

uint64_t SysmemPressureInjector::held_bytes() const {
  absl::MutexLock lock(&budget_->mu);
  return budget_->held;
}

absl::Status SysmemPressureInjector::CheckFloor(uint64_t available,
                                                uint64_t more, uint64_t taken,
                                                uint64_t total) const {
  if (available >= more && available - more >= options_.floor_bytes) {
    return absl::OkStatus();
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "sysmem pressure of ", DescribeBytes(total), " refused",
      taken > 0 ? absl::StrCat(" after taking ", DescribeBytes(taken)) : "",
      ": MemAvailable is ", DescribeBytes(available), " and taking ",
      DescribeBytes(more), " more would go below the floor of ",
      DescribeBytes(options_.floor_bytes)));
}

absl::StatusOr<std::unique_ptr<PressureLease>> SysmemPressureInjector::Acquire(
    const PressureSpec& spec) {
  XEHIL_RETURN_IF_ERROR(ValidatePressureSpec(spec));
  absl::MutexLock acquire_lock(&acquire_mu_);
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t length = RoundUp(spec.bytes, page);
  const uint64_t chunk =
      RoundUp(std::max<uint64_t>(options_.chunk_bytes, 1), page);
  if (options_.max_bytes != 0 && held_bytes() + length > options_.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "sysmem pressure of ", DescribeBytes(length), " beside ",
        DescribeBytes(held_bytes()), " already held exceeds the cap of ",
        DescribeBytes(options_.max_bytes)));
  }
  XEHIL_ASSIGN_OR_RETURN(uint64_t available,
                         ReadMemAvailable(options_.meminfo_path));
  XEHIL_RETURN_IF_ERROR(CheckFloor(available, length, 0, length));

  void* addr = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (addr == MAP_FAILED) {
    return ErrnoToStatus(-errno,
                         absl::StrCat("mmap of ", DescribeBytes(length)));
  }
  auto mapping =
      std::make_unique<LockedMapping>(static_cast<char*>(addr), length);
  // A child forked by this process must not share (and double) the pages.
  madvise(addr, length, MADV_DONTFORK);
  for (uint64_t offset = 0; offset < length; offset += chunk) {
    const uint64_t n = std::min(chunk, length - offset);
    if (offset > 0) {
      XEHIL_ASSIGN_OR_RETURN(available,
                             ReadMemAvailable(options_.meminfo_path));
      XEHIL_RETURN_IF_ERROR(
          CheckFloor(available, length - offset, offset, length));
    }
    char* start = static_cast<char*>(addr) + offset;
    // mlock faults the chunk in and pins it; the writes make every page the
    // process's own, never the shared zero page.
    if (LockRange(start, n) != 0) return MlockError(errno, n);
    mapping->set_locked(offset + n);
    for (uint64_t i = 0; i < n; i += page) {
      static_cast<volatile char*>(start)[i] = 1;
    }
    if (options_.after_chunk_for_testing) {
      options_.after_chunk_for_testing(offset + n);
    }
  }
  mapping->Count(budget_);
  return PressureLease::Create(absl::StrCat("sysmem: ", DescribeBytes(length)),
                               length, std::move(mapping), spec.ttl, reaper_);
}

}  // namespace xehil
