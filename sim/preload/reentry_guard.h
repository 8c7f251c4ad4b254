// ReentryGuard: enforces at run time that the interposer never calls a
// function it overrides. Every override opens a guard; a second guard on
// the same thread while the first is open means interposer code reached an
// override (through the PLT, or through a library it called), which the
// readelf test rules out statically. That is counted, and with strict mode
// (XEHIL_PRELOAD_STRICT=1) the process aborts with one line naming both
// functions.
//
//   extern "C" int close(int fd) {
//     ReentryGuard guard("close", __builtin_return_address(0));
//     ...
//   }
//
// One kind of nesting is not ours and is exempt: a sanitizer runtime
// (ASan, TSan, ...) that calls through its interceptors while reporting,
// e.g. its symbolizer opening /proc/self/exe during our close(). A signal
// handler that calls an overridden function while the thread is inside an
// override does count; strict mode is for tests.
#ifndef XEHIL_SIM_PRELOAD_REENTRY_GUARD_H_
#define XEHIL_SIM_PRELOAD_REENTRY_GUARD_H_

#include <cstdint>

namespace xehil::preload {

class ReentryGuard {
 public:
  // `caller`: the override's return address, __builtin_return_address(0).
  ReentryGuard(const char* function, const void* caller);
  ~ReentryGuard();
  ReentryGuard(const ReentryGuard&) = delete;
  ReentryGuard& operator=(const ReentryGuard&) = delete;

  // Re-entries seen in this process.
  static uint64_t violations();
  // Abort on the first re-entry.
  static void set_strict(bool strict);
  static bool strict();

 private:
  const char* const previous_;
};

}  // namespace xehil::preload

#endif  // XEHIL_SIM_PRELOAD_REENTRY_GUARD_H_
