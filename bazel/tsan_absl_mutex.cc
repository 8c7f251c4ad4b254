// --config=tsan only: makes Debian's Abseil synchronisation visible to
// ThreadSanitizer. libabsl_synchronization.so is not built with TSan, so
// absl::Mutex and absl::CondVar carry none of their TSan annotations and
// every field they guard would look racy. This library (linked into tests
// and binaries by bazel/defs.bzl under --config=tsan) interposes the
// out-of-line Mutex/CondVar entry points: each forwards to the real one
// (dlsym RTLD_NEXT) and adds the happens-before edges a mutex implies:
// release before giving the lock up, acquire once it is held again.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"

extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);

namespace {

#define XEHIL_TSAN_STR2(x) #x
#define XEHIL_TSAN_STR(x) XEHIL_TSAN_STR2(x)
constexpr char kNamespace[] = XEHIL_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);

// The real definition of absl::<inline namespace>::<suffix>.
template <typename Fn>
Fn Real(const char* suffix) {
  const std::string name =
      "_ZN4absl" + std::to_string(sizeof(kNamespace) - 1) + kNamespace + suffix;
  void* symbol = dlsym(RTLD_NEXT, name.c_str());
  if (symbol == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found: %s\n", name.c_str(),
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(symbol);
}

void Acquired(const void* mu) { __tsan_acquire(const_cast<void*>(mu)); }
void Releasing(const void* mu) { __tsan_release(const_cast<void*>(mu)); }

// A wait's condition is evaluated with the mutex held, but often by another
// thread inside its Unlock, after that thread's release: the evaluation
// gets its own acquire/release so the next holder is ordered after it.
struct AnnotatedCondition {
  const void* mu;
  const absl::Condition* condition;
};

bool EvalAnnotated(AnnotatedCondition* c) {
  Acquired(c->mu);
  const bool holds = c->condition->Eval();
  Releasing(c->mu);
  return holds;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  real(this);
  Acquired(this);
}

void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  real(this);
  Acquired(this);
}

bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquired(this);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquired(this);
  return locked;
}

void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  Releasing(this);
  real(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  Releasing(this);
  real(this);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated{this, &cond};
  real(this, Condition(&EvalAnnotated, &annotated));
  Acquired(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated{this, &cond};
  real(this, Condition(&EvalAnnotated, &annotated));
  Acquired(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated{this, &cond};
  const bool holds = real(this, Condition(&EvalAnnotated, &annotated), timeout);
  Acquired(this);
  return holds;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition annotated{this, &cond};
  const bool holds =
      real(this, Condition(&EvalAnnotated, &annotated), deadline);
  Acquired(this);
  return holds;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated{this, &cond};
  const bool holds = real(this, Condition(&EvalAnnotated, &annotated), timeout);
  Acquired(this);
  return holds;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition annotated{this, &cond};
  const bool holds =
      real(this, Condition(&EvalAnnotated, &annotated), deadline);
  Acquired(this);
  return holds;
}

// Await gives the lock up while it waits and holds it again on return.
void Mutex::Await(const Condition& cond) {
  static const auto real = Real<void (*)(Mutex*, const Condition&)>(
      "5Mutex5AwaitERKNS0_9ConditionE");
  Releasing(this);
  AnnotatedCondition annotated{this, &cond};
  real(this, Condition(&EvalAnnotated, &annotated));
  Acquired(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Releasing(this);
  AnnotatedCondition annotated{this, &cond};
  const bool holds = real(this, Condition(&EvalAnnotated, &annotated), timeout);
  Acquired(this);
  return holds;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Releasing(this);
  AnnotatedCondition annotated{this, &cond};
  const bool holds =
      real(this, Condition(&EvalAnnotated, &annotated), deadline);
  Acquired(this);
  return holds;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real =
      Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE");
  Releasing(mu);
  real(this, mu);
  Acquired(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Releasing(mu);
  const bool timed_out = real(this, mu, timeout);
  Acquired(mu);
  return timed_out;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Releasing(mu);
  const bool timed_out = real(this, mu, deadline);
  Acquired(mu);
  return timed_out;
}

ABSL_NAMESPACE_END
}  // namespace absl
