// Test helper: makes the next std::thread fail to start, for real, by capping
// the process's address space (RLIMIT_AS) just above what is mapped now, so
// that glibc cannot map a new thread's stack and pthread_create answers
// EAGAIN. Root is not exempt from RLIMIT_AS (it is from RLIMIT_NPROC).
//
// Use it only in a process of its own, e.g. a "threadsafe" death test's
// child, where no thread has been joined before (glibc reuses a joined
// thread's cached stack without mapping one):
//
//   GTEST_FLAG_SET(death_test_style, "threadsafe");
//   EXPECT_EXIT({ if (!CapAddressSpace(1 << 20)) _exit(3);
//                 _exit(Device::Start(profile).ok() ? 1 : 0); },
//               ::testing::ExitedWithCode(0), "");
//
// Sanitizers map memory of their own for every thread, so such tests skip
// under them (kUnderSanitizer).
#ifndef XEHIL_SIM_ADDRESS_SPACE_CAP_H_
#define XEHIL_SIM_ADDRESS_SPACE_CAP_H_

#include <cstdint>

namespace xehil::sim::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
inline constexpr bool kUnderSanitizer = true;
#else
inline constexpr bool kUnderSanitizer = false;
#endif
#else
inline constexpr bool kUnderSanitizer = false;
#endif

// Caps RLIMIT_AS at the current mapped size plus `slack_bytes` (keep it below
// a thread stack, 8 MiB by default). False if /proc or setrlimit failed.
bool CapAddressSpace(uint64_t slack_bytes);

}  // namespace xehil::sim::testing

#endif  // XEHIL_SIM_ADDRESS_SPACE_CAP_H_
