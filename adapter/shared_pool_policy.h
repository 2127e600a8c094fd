// The shared-pool threading policy: a fixed set of worker threads taking
// calls from priority lanes, always from the highest non-empty lane, FIFO
// within a lane (the seeds' worker pool with priority queues).
//
// Thread-safety: thread-safe.
#ifndef KORB_ADAPTER_SHARED_POOL_POLICY_H_
#define KORB_ADAPTER_SHARED_POOL_POLICY_H_

#include <deque>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/sync.h"
#include "adapter/threading_policy.h"

namespace korb {

class SharedPoolPolicy final : public ThreadingPolicy {
 public:
  // Starts `threads` workers (> 0); at most `max_queued` calls wait.
  SharedPoolPolicy(int threads, size_t max_queued);
  ~SharedPoolPolicy() override;  // Shutdown()

  absl::string_view name() const override { return "pool"; }
  void Execute(PendingCall* call) override ABSL_LOCKS_EXCLUDED(mu_);
  void Shutdown() override ABSL_LOCKS_EXCLUDED(mu_);
  PolicyStats Stats() const override ABSL_LOCKS_EXCLUDED(mu_);

  // Calls waiting for a worker.
  size_t queued() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void WorkerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_queued_;
  mutable korb::Mutex mu_;
  // Lanes by priority, highest first.
  std::map<int32_t, std::deque<PendingCall*>, std::greater<>> lanes_ ABSL_GUARDED_BY(mu_);
  size_t queued_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Written by the constructor and joined by the first Shutdown() only.
  std::vector<std::thread> workers_;
  korb::Mutex join_mu_;  // serializes concurrent Shutdown() calls
  bool joined_ ABSL_GUARDED_BY(join_mu_) = false;
};

}  // namespace korb

#endif  // KORB_ADAPTER_SHARED_POOL_POLICY_H_
