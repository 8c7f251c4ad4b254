#include "sim/address_space_cap.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace xehil::sim::testing {

bool CapAddressSpace(uint64_t slack_bytes) {
  // /proc/self/statm's first field: the whole mapped size, in pages.
  std::FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return false;
  unsigned long long pages = 0;
  const bool read = std::fscanf(statm, "%llu", &pages) == 1;
  std::fclose(statm);
  if (!read) return false;
  const uint64_t mapped = static_cast<uint64_t>(pages) *
                          static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  struct rlimit limit;
  limit.rlim_cur = mapped + slack_bytes;
  limit.rlim_max = mapped + slack_bytes;
  return ::setrlimit(RLIMIT_AS, &limit) == 0;
}

}  // namespace xehil::sim::testing
