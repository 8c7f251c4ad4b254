// CLOCK_MONOTONIC in nanoseconds: the clock of VM_ERR record timestamps, so
// every latency xehil reports is measured against it.
#ifndef XEHIL_CORE_BASE_MONOTONIC_CLOCK_H_
#define XEHIL_CORE_BASE_MONOTONIC_CLOCK_H_

#include <time.h>

#include <cstdint>

namespace xehil {

inline uint64_t MonotonicNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace xehil

#endif  // XEHIL_CORE_BASE_MONOTONIC_CLOCK_H_
