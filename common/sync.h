// korb::Mutex, MutexLock, ReaderMutexLock and Notification: absl's
// synchronization types, made visible to ThreadSanitizer.
//
// Why: Debian ships Abseil and gRPC prebuilt and not instrumented, so under
// -fsanitize=thread the happens-before edges that absl::Mutex creates are
// invisible and every access guarded by one is reported as a race. These thin
// wrappers tell TSan about each acquire and release (sanitizer/tsan_interface.h);
// in every other build they compile to the absl calls alone. Korb's own code
// uses them instead of the absl types; conditions stay absl::Condition (each
// evaluation of an awaited condition is marked too).
//
// HappensBefore()/HappensAfter() mark the same kind of edge where control
// passes between threads through gRPC's internals (a call handed to a
// reactor callback on another thread).
//
// Thread-safety: as the absl types they wrap (thread-safe).
//
// Usage:
//   korb::Mutex mu;
//   int n ABSL_GUARDED_BY(mu) = 0;
//   { korb::MutexLock lock(&mu); ++n; }
#ifndef KORB_COMMON_SYNC_H_
#define KORB_COMMON_SYNC_H_

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

#if defined(__SANITIZE_THREAD__)
#define KORB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KORB_TSAN 1
#endif
#endif

#ifdef KORB_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace korb {

// Marks that what this thread did so far happens before whatever a thread
// does after HappensAfter(`token`).
inline void HappensBefore(const void* token) {
#ifdef KORB_TSAN
  __tsan_release(const_cast<void*>(token));
#else
  (void)token;
#endif
}
inline void HappensAfter(const void* token) {
#ifdef KORB_TSAN
  __tsan_acquire(const_cast<void*>(token));
#else
  (void)token;
#endif
}

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    HappensAfter(this);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    HappensBefore(this);
    mu_.Unlock();
  }
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    mu_.ReaderLock();
    HappensAfter(this);
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() {
    HappensBefore(this);
    mu_.ReaderUnlock();
  }
  // Releases the mutex until `condition` holds, then reacquires it.
  // `condition` must only read state guarded by this mutex.
  void Await(const absl::Condition& condition) ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    TracedCondition traced{this, &condition};
    HappensBefore(this);
    mu_.Await(traced.get());
    HappensAfter(this);
  }
  // As Await(), giving up after `timeout`; true if `condition` holds.
  bool AwaitWithTimeout(const absl::Condition& condition, absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    TracedCondition traced{this, &condition};
    HappensBefore(this);
    bool result = mu_.AwaitWithTimeout(traced.get(), timeout);
    HappensAfter(this);
    return result;
  }
  bool AwaitWithDeadline(const absl::Condition& condition, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this) {
    TracedCondition traced{this, &condition};
    HappensBefore(this);
    bool result = mu_.AwaitWithDeadline(traced.get(), deadline);
    HappensAfter(this);
    return result;
  }
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() { mu_.AssertHeld(); }

 private:
  // absl evaluates an awaited condition with the mutex held, but on a thread
  // and at a moment of its choosing (on the waiter, or on another thread
  // inside Unlock()), outside the edges marked above. Each evaluation is
  // therefore marked as acquiring and releasing the mutex, which it does in
  // effect. Without TSan, absl still calls through this one indirection.
  struct TracedCondition {
    const Mutex* mu;
    const absl::Condition* condition;
    bool Eval() const {
      HappensAfter(mu);
      const bool result = condition->Eval();
      HappensBefore(mu);
      return result;
    }
    absl::Condition get() const { return absl::Condition(this, &TracedCondition::Eval); }
  };

  absl::Mutex mu_;
};

class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

class ABSL_SCOPED_LOCKABLE ReaderMutexLock {
 public:
  explicit ReaderMutexLock(Mutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->ReaderLock();
  }
  ~ReaderMutexLock() ABSL_UNLOCK_FUNCTION() { mu_->ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// absl::Notification with the Notify() -> wake-up edge visible to TSan.
class Notification {
 public:
  void Notify() {
    HappensBefore(this);
    n_.Notify();
  }
  bool HasBeenNotified() const {
    bool notified = n_.HasBeenNotified();
    if (notified) HappensAfter(this);
    return notified;
  }
  void WaitForNotification() const {
    n_.WaitForNotification();
    HappensAfter(this);
  }
  bool WaitForNotificationWithTimeout(absl::Duration timeout) const {
    bool notified = n_.WaitForNotificationWithTimeout(timeout);
    if (notified) HappensAfter(this);
    return notified;
  }

 private:
  absl::Notification n_;
};

}  // namespace korb

#endif  // KORB_COMMON_SYNC_H_
