// internal::KeyedThreads<Key>: a FIFO queue and a thread of its own per key,
// the machinery behind thread-per-object (Key = the object's identity) and
// thread-per-connection (Key = the connection's peer string).
//
// The calls of one key run one at a time, in arrival order (priority does not
// reorder them), on that key's thread; different keys run in parallel.
// A key's thread exists while the key has calls or is pinned:
//   - Execute() for a key without a thread starts one;
//   - Pin() starts one if needed and keeps it waiting while the key has no
//     calls; Unpin() lets it end once the key's queue is empty;
//   - an unpinned key's thread waits `linger` for a next call and then ends
//     (at once for a zero linger).
// At most `max_queued` calls wait in all queues together (a running call does
// not count); beyond that Execute() rejects with RESOURCE_EXHAUSTED
// (transient). At most `max_threads` keys have a thread (0: no cap): a call
// for another key is rejected the same way, and Pin() of another key gives it
// no thread until one is free (its calls then start one as any key's do).
//
// Thread-safety: thread-safe. Calls run on the key threads; Shutdown() must
// not be called from one of them.
//
// Usage:
//   internal::KeyedThreads<const void*> lanes("thread-per-object",
//                                             absl::ZeroDuration(), 10000);
//   lanes.Pin(object);           // object activated: it gets its thread
//   lanes.Execute(call, call->object());
//   lanes.Unpin(object);         // deactivated: the thread ends when drained
#ifndef KORB_ADAPTER_INTERNAL_POLICY_KEYED_THREADS_H_
#define KORB_ADAPTER_INTERNAL_POLICY_KEYED_THREADS_H_

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "adapter/internal/policy_queue.h"
#include "adapter/internal/policy_threads.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"

namespace korb {
namespace internal {

// Instantiated for Key = const void* and Key = std::string.
template <typename Key>
class KeyedThreads {
 public:
  // How callers name a key: absl::string_view for string keys.
  using KeyRef = std::conditional_t<std::is_same_v<Key, std::string>, absl::string_view, Key>;

  // `what` names the policy in rejection messages; `linger` >= 0.
  KeyedThreads(absl::string_view what, absl::Duration linger, size_t max_queued,
               size_t max_threads = 0);
  KeyedThreads(const KeyedThreads&) = delete;
  KeyedThreads& operator=(const KeyedThreads&) = delete;
  ~KeyedThreads();  // Shutdown()

  // Queues `call` on `key`'s thread (starting it if needed); never blocks.
  // Rejects it as ThreadingPolicy::Execute() documents.
  void Execute(PendingCall* call, KeyRef key) ABSL_LOCKS_EXCLUDED(mu_);
  // Keeps a thread for `key` until Unpin(); no-op after Shutdown().
  void Pin(KeyRef key) ABSL_LOCKS_EXCLUDED(mu_);
  // Lets `key`'s thread end once its queue is empty; no-op for unknown keys.
  void Unpin(KeyRef key) ABSL_LOCKS_EXCLUDED(mu_);
  // As ThreadingPolicy::Shutdown().
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);
  // threads: key threads alive (or starting); queued: calls waiting in all
  // key queues.
  PolicyStats Stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Lane {
    std::deque<PendingCall*> calls;  // waiting, oldest first
    bool pinned = false;
  };

  bool AtThreadCapLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return max_threads_ > 0 && lanes_.size() >= max_threads_;
  }
  // Starts the thread of `lane`, just added to lanes_ under `key`. If the
  // system refuses, removes the lane and rejects what it holds.
  void StartThread(KeyRef key, Lane* lane) ABSL_LOCKS_EXCLUDED(mu_);
  // The body of `lane`'s thread; removes the lane from lanes_ when it ends.
  void Loop(const Key& key, Lane* lane) ABSL_LOCKS_EXCLUDED(mu_);

  const std::string what_;
  const absl::Duration linger_;
  const size_t max_queued_;
  const size_t max_threads_;  // 0: no cap

  mutable korb::Mutex mu_;
  // A lane is present exactly while its thread is alive or being started;
  // the thread erases it as its last act under mu_. unique_ptr keeps a Lane
  // where its thread points to while the map rehashes.
  absl::flat_hash_map<Key, std::unique_ptr<Lane>> lanes_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;  // sum of the lanes' calls
  PriorityCounts queued_by_priority_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  PolicyThreads threads_;
};

extern template class KeyedThreads<const void*>;
extern template class KeyedThreads<std::string>;

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_POLICY_KEYED_THREADS_H_
