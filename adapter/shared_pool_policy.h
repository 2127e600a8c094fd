// The shared-pool threading policy (the seeds' worker pool with priority
// queues): worker threads take calls from priority lanes, always from the
// highest non-empty lane, FIFO within a lane.
//
// Options (ThreadingOptions):
//   pool_threads          workers started with the pool, alive until Shutdown().
//   max_pool_threads      growth: when a call is queued and no worker is idle,
//                         another worker starts, up to this many (a pool whose
//                         workers all block, e.g. on nested calls, keeps
//                         serving). A worker beyond pool_threads ends after
//                         idle_timeout without work, so the pool shrinks back.
//   serialize_per_object  calls to one object (PendingCall::object()) run one
//                         at a time, in arrival order, never overlapping;
//                         calls to different objects still run in parallel.
//                         An object's later calls are parked aside, occupying
//                         no worker and no lane, until its current call
//                         returns; then its oldest parked call enters its
//                         priority's lane. Priority orders calls across
//                         objects, never within one.
//   max_queued_calls      bound on waiting calls (in lanes and parked);
//                         beyond it Execute() rejects with RESOURCE_EXHAUSTED
//                         (korb-error: transient).
// Shutdown() rejects the waiting calls with UNAVAILABLE (transient), waits for
// the running ones and joins every worker.
//
// Thread-safety: thread-safe. Servant calls run on the workers; Shutdown()
// must not be called from one of them (it aborts: it would wait for itself).
//
// Usage:
//   SharedPoolPolicy pool(ThreadingOptions::GrowingPool(4, 64));
//   pool.Execute(call);
#ifndef KORB_ADAPTER_SHARED_POOL_POLICY_H_
#define KORB_ADAPTER_SHARED_POOL_POLICY_H_

#include <cstddef>
#include <deque>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "adapter/internal/policy_queue.h"
#include "adapter/internal/policy_threads.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"

namespace korb {

class SharedPoolPolicy final : public ThreadingPolicy {
 public:
  // `options` as MakeThreadingPolicy() validates them (kind is not looked
  // at); pool_threads 0 means max(4, hardware threads).
  explicit SharedPoolPolicy(const ThreadingOptions& options);
  // A fixed pool of `threads` (> 0) workers; at most `max_queued` calls wait.
  SharedPoolPolicy(int threads, size_t max_queued);
  ~SharedPoolPolicy() override;  // Shutdown()

  absl::string_view name() const override { return "pool"; }
  void Execute(PendingCall* call) override ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_);
  // threads: workers alive (or starting); queued: calls in lanes and parked.
  PolicyStats Stats() const override ABSL_LOCKS_EXCLUDED(mu_);

  // Calls waiting for a worker (in lanes and parked).
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Starts one worker, counted in threads_ already; uncounts it if the system
  // refuses (the pool keeps its other workers).
  void StartWorker() ABSL_LOCKS_EXCLUDED(mu_);
  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);

  const int core_threads_;  // never end before Shutdown()
  const int max_threads_;   // >= core_threads_
  const bool serialize_per_object_;
  const absl::Duration idle_timeout_;
  const size_t max_queued_;

  mutable korb::Mutex mu_;
  // Calls a worker may take now.
  internal::PriorityCallQueue lanes_ ABSL_GUARDED_BY(mu_);
  // serialize_per_object only: an object is present exactly while one of its
  // calls is in lanes_ or running; its later calls wait here, oldest first.
  absl::flat_hash_map<const void*, std::deque<PendingCall*>> parked_ ABSL_GUARDED_BY(mu_);
  size_t parked_count_ ABSL_GUARDED_BY(mu_) = 0;
  internal::PriorityCounts parked_by_priority_ ABSL_GUARDED_BY(mu_);
  // Workers alive or being started.
  int threads_ ABSL_GUARDED_BY(mu_) = 0;
  // Workers running a call; the others (waiting, or just started) will each
  // take a queued call without help.
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  internal::PolicyThreads workers_;
};

}  // namespace korb

#endif  // KORB_ADAPTER_SHARED_POOL_POLICY_H_
