// korb::Future<T>: the result of an asynchronous call, to wait for later.
//
// A Future is a cheap copyable handle to shared state that the call completes
// exactly once. Get() blocks until then. Many calls may be in flight from one
// thread; WaitAll() waits for several.
//
// Thread-safety: thread-safe; any number of threads may wait on copies of one
// Future.
//
// Usage:
//   korb::Future<bank::Balance> a = alice.DepositAsync(amount);
//   korb::Future<bank::Balance> b = bob.DepositAsync(amount);
//   korb::WaitAll(a, b);
//   if (a.Get().ok()) std::cout << a.Get()->cents() << "\n";
#ifndef KORB_CLIENT_FUTURE_H_
#define KORB_CLIENT_FUTURE_H_

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/sync.h"
#include "absl/time/time.h"

namespace korb {

template <typename T>
class Future {
 public:
  // Result type of the call.
  using Result = absl::StatusOr<T>;

  // A fresh, unfulfilled future; the runtime completes it with Fulfill().
  Future() : state_(std::make_shared<State>()) {}

  // True once the call has completed.
  bool Ready() const {
    korb::MutexLock lock(&state_->mu);
    return state_->result.has_value();
  }
  // Blocks until the call has completed.
  void Wait() const {
    korb::MutexLock lock(&state_->mu);
    state_->mu.Await(absl::Condition(this, &Future::HasResultLocked));
  }
  // Blocks until the call has completed or `timeout` passed; true if completed.
  bool WaitFor(absl::Duration timeout) const {
    korb::MutexLock lock(&state_->mu);
    return state_->mu.AwaitWithTimeout(
        absl::Condition(this, &Future::HasResultLocked), timeout);
  }
  // Blocks until completed and returns the result. The reference stays valid
  // while any copy of this Future exists.
  const Result& Get() const {
    Wait();
    korb::MutexLock lock(&state_->mu);
    return *state_->result;
  }

  // Runtime side: completes the future. Called exactly once.
  void Fulfill(Result result) const {
    korb::MutexLock lock(&state_->mu);
    state_->result.emplace(std::move(result));
  }

 private:
  struct State {
    korb::Mutex mu;
    std::optional<Result> result ABSL_GUARDED_BY(mu);
  };
  bool HasResultLocked() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return state_->result.has_value();
  }

  std::shared_ptr<State> state_;
};

// Blocks until every future has completed.
template <typename... Futures>
void WaitAll(const Futures&... futures) {
  (futures.Wait(), ...);
}
template <typename T>
void WaitAll(const std::vector<Future<T>>& futures) {
  for (const Future<T>& f : futures) f.Wait();
}

}  // namespace korb

#endif  // KORB_CLIENT_FUTURE_H_
