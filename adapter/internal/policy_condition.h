// internal::MutexCondition: an absl::Condition over state guarded by a
// korb::Mutex, with each evaluation visible to ThreadSanitizer.
//
// Why: absl evaluates a condition with the mutex held, but on a thread and at
// a point of its choosing: on the waiter before it blocks or after a timeout,
// or on another thread inside Unlock(). korb::Mutex marks its edges around
// Lock(), Unlock() and Await() as a whole, which these evaluations fall
// outside of (Debian's Abseil is not instrumented), so TSan would report the
// condition's reads as racing with the next lock holder's writes. Each
// evaluation is therefore marked as acquiring and releasing the mutex itself,
// which is what it does in effect. Without TSan this is a plain call.
//
// Thread-safety: as the function it wraps; it must only read state guarded by
// `mu`.
//
// Usage:
//   auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
//     return !queue_.empty() || stopping_;
//   };
//   mu_.Await(internal::MutexCondition(&mu_, has_work).get());
#ifndef KORB_ADAPTER_INTERNAL_POLICY_CONDITION_H_
#define KORB_ADAPTER_INTERNAL_POLICY_CONDITION_H_

#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/sync.h"

namespace korb {
namespace internal {

template <typename Fn>
class MutexCondition {
 public:
  // `mu` is the mutex the condition is awaited under; borrowed.
  MutexCondition(const korb::Mutex* mu, Fn fn) : mu_(mu), fn_(std::move(fn)) {}
  MutexCondition(const MutexCondition&) = delete;
  MutexCondition& operator=(const MutexCondition&) = delete;

  // Valid while *this lives (a temporary lives through the Await() call).
  absl::Condition get() const { return absl::Condition(this, &MutexCondition::Eval); }

 private:
  // Runs with `mu` held (absl's guarantee), which the analysis cannot see.
  bool Eval() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    HappensAfter(mu_);
    const bool result = fn_();
    HappensBefore(mu_);
    return result;
  }

  const korb::Mutex* const mu_;
  const Fn fn_;
};

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_POLICY_CONDITION_H_
