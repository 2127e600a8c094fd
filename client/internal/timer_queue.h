// korb::internal::TimerQueue: one lazily started thread that runs callbacks
// at given times. The Client uses it to start the next attempt of an
// asynchronous call after a retry backoff, so that no gRPC callback thread
// ever sleeps.
//
// Callbacks run on the queue's thread, one at a time, in time order, without
// any lock held; they must not block (starting a gRPC call is fine). Each
// runs at most once: at its time, earlier after FireNow(), or never if the
// queue is destroyed first.
//
// Thread-safety: thread-safe. The destructor must not run on the queue's own
// thread.
//
// Usage:
//   uint64_t id = timers.Reserve();   // hand `id` to whoever may cut it short
//   timers.Schedule(id, absl::Now() + wait, [call] { call->Launch(); });
//   timers.FireNow(id);               // e.g. the call was cancelled: stop waiting
//   timers.Cancel(id);                // or: never mind
#ifndef KORB_CLIENT_INTERNAL_TIMER_QUEUE_H_
#define KORB_CLIENT_INTERNAL_TIMER_QUEUE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "common/sync.h"

namespace korb::internal {

class TimerQueue {
 public:
  TimerQueue() = default;
  // Stops the thread; callbacks still pending never run.
  ~TimerQueue();

  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // A fresh id for one Schedule() call; FireNow() may name it even before
  // that call.
  uint64_t Reserve() ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `callback` at `when` (at once if it has passed, or if FireNow(id)
  // came first). `id` comes from Reserve() and is scheduled once.
  void Schedule(uint64_t id, absl::Time when, std::function<void()> callback)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Moves the callback `id` to now if it has not run yet; else does nothing.
  void FireNow(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);
  // Drops the callback `id` unless it has run or is running (then does
  // nothing); the callback is destroyed on this thread.
  void Cancel(uint64_t id) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using Key = std::pair<absl::Time, uint64_t>;  // (when, id): ids break ties in order

  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  bool ShouldWake() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  korb::Mutex mu_;
  std::map<Key, std::function<void()>> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, absl::Time> when_ ABSL_GUARDED_BY(mu_);  // id -> key time
  // Reserved ids not yet scheduled -> FireNow() has been called for them.
  absl::flat_hash_map<uint64_t, bool> reserved_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;  // the earliest entry changed
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace korb::internal

#endif  // KORB_CLIENT_INTERNAL_TIMER_QUEUE_H_
