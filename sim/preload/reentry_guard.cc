#include "sim/preload/reentry_guard.h"

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace xehil::preload {
namespace {

// The override this thread is in, or null. initial-exec: the interposer is
// loaded at startup, and the access must not allocate.
__attribute__((tls_model("initial-exec"))) thread_local const char* current =
    nullptr;

std::atomic<uint64_t> violation_count{0};
std::atomic<bool> strict_mode{false};

// write(2) without the write() we override.
void Say(const char* text) {
  size_t left = std::strlen(text);
  while (left > 0) {
    long n = ::syscall(SYS_write, 2, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

// True if `caller` lies in a sanitizer runtime (libasan.so, libtsan.so,
// ...): a nested call from there is the sanitizer's, not ours.
bool FromSanitizerRuntime(const void* caller) {
  Dl_info info{};
  if (caller == nullptr || ::dladdr(caller, &info) == 0 ||
      info.dli_fname == nullptr) {
    return false;
  }
  const char* base = std::strrchr(info.dli_fname, '/');
  base = base == nullptr ? info.dli_fname : base + 1;
  for (const char* runtime :
       {"libasan", "libtsan", "libubsan", "liblsan", "libclang_rt."}) {
    if (std::strncmp(base, runtime, std::strlen(runtime)) == 0) return true;
  }
  return false;
}

}  // namespace

ReentryGuard::ReentryGuard(const char* function, const void* caller)
    : previous_(current) {
  if (previous_ != nullptr && !FromSanitizerRuntime(caller)) {
    violation_count.fetch_add(1, std::memory_order_relaxed);
    if (strict_mode.load(std::memory_order_relaxed)) {
      Say("xehil-preload: XEHIL_PRELOAD_STRICT: ");
      Say(function);
      Say("() was called from inside the interposer's ");
      Say(previous_);
      Say("(); the interposer must not call the functions it overrides\n");
      std::abort();
    }
  }
  current = function;
}

ReentryGuard::~ReentryGuard() { current = previous_; }

uint64_t ReentryGuard::violations() {
  return violation_count.load(std::memory_order_relaxed);
}

void ReentryGuard::set_strict(bool strict) {
  strict_mode.store(strict, std::memory_order_relaxed);
}

bool ReentryGuard::strict() {
  return strict_mode.load(std::memory_order_relaxed);
}

}  // namespace xehil::preload
