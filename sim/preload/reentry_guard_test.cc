#include "sim/preload/reentry_guard.h"

#include <dlfcn.h>

#include <thread>

#include "gtest/gtest.h"

namespace xehil::preload {
namespace {

TEST(ReentryGuard, SequentialAndCrossThreadCallsAreNotViolations) {
  const uint64_t before = ReentryGuard::violations();
  { ReentryGuard a("close", nullptr); }
  { ReentryGuard b("read", nullptr); }
  {
    ReentryGuard outer("poll", nullptr);
    // Another thread inside an override at the same time is fine.
    std::thread other([] { ReentryGuard inner("ioctl", nullptr); });
    other.join();
  }
  EXPECT_EQ(ReentryGuard::violations(), before);
}

TEST(ReentryGuard, NestedGuardOnOneThreadIsCounted) {
  ReentryGuard::set_strict(false);
  const uint64_t before = ReentryGuard::violations();
  {
    ReentryGuard outer("open", nullptr);
    // Called from this test binary: not a sanitizer runtime.
    ReentryGuard inner("close", __builtin_return_address(0));
  }
  EXPECT_EQ(ReentryGuard::violations(), before + 1);
  { ReentryGuard again("close", nullptr); }  // the depth unwound
  EXPECT_EQ(ReentryGuard::violations(), before + 1);
}

TEST(ReentryGuard, NestingFromASanitizerRuntimeIsExempt) {
  // Any function of a loaded sanitizer runtime will do as the caller.
  void* sanitizer = ::dlsym(RTLD_DEFAULT, "__asan_init");
  if (sanitizer == nullptr) sanitizer = ::dlsym(RTLD_DEFAULT, "__tsan_init");
  if (sanitizer == nullptr) GTEST_SKIP() << "not a sanitizer build";
  ReentryGuard::set_strict(true);
  const uint64_t before = ReentryGuard::violations();
  {
    ReentryGuard outer("close", nullptr);
    ReentryGuard inner("open", sanitizer);
  }
  EXPECT_EQ(ReentryGuard::violations(), before);
  ReentryGuard::set_strict(false);
}

TEST(ReentryGuardDeathTest, StrictModeAbortsNamingBothFunctions) {
  EXPECT_DEATH(
      {
        ReentryGuard::set_strict(true);
        ReentryGuard outer("pipe2", nullptr);
        ReentryGuard inner("close", nullptr);
      },
      "close\\(\\) was called from inside the interposer's pipe2\\(\\)");
}

}  // namespace
}  // namespace xehil::preload
