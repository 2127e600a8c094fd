// Building blocks shared by the threading policies' queues: a priority-lane
// queue of PendingCalls (higher priority first, FIFO within a priority), a
// per-priority tally for calls a policy keeps in FIFO queues of its own, and
// the statuses with which policies reject calls.
//
// Thread-safety: PriorityCallQueue and PriorityCounts are thread-compatible;
// policies guard them with their own mutex.
//
// Usage:
//   internal::PriorityCallQueue queue;  // ABSL_GUARDED_BY(mu_)
//   queue.Push(call);
//   PendingCall* next = queue.Pop();   // the highest-priority, oldest call
#ifndef KORB_ADAPTER_INTERNAL_POLICY_QUEUE_H_
#define KORB_ADAPTER_INTERNAL_POLICY_QUEUE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "adapter/threading_policy.h"

namespace korb {
namespace internal {

// Waiting calls per priority, highest first; no zero entries.
class PriorityCounts {
 public:
  void Add(int32_t priority, size_t n = 1) { counts_[priority] += n; }
  // Requires that a call of `priority` was added and not removed.
  void Remove(int32_t priority);
  void Clear() { counts_.clear(); }
  // In PolicyStats::queued_by_priority's form.
  std::vector<std::pair<int32_t, size_t>> ToVector() const;

 private:
  std::map<int32_t, size_t, std::greater<>> counts_;
};

// Calls waiting for a thread, in lanes by priority: Pop() takes the oldest
// call of the highest non-empty lane (the seeds' worker pool scanning its
// queues in descending priority). Does not own the calls.
class PriorityCallQueue {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // Appends `call` (not null, not yet run or rejected) to its priority's lane.
  void Push(PendingCall* call);
  // Removes and returns the next call. Requires !empty().
  PendingCall* Pop();
  // Removes and returns every call, in Pop() order.
  std::vector<PendingCall*> TakeAll();
  // Adds the waiting calls per priority to `counts`.
  void CountInto(PriorityCounts* counts) const;
  // In PolicyStats::queued_by_priority's form.
  std::vector<std::pair<int32_t, size_t>> ByPriority() const;

 private:
  // Lanes by priority, highest first; no empty lanes.
  std::map<int32_t, std::deque<PendingCall*>, std::greater<>> lanes_;
  size_t size_ = 0;  // sum of the lanes' sizes
};

// UNAVAILABLE (korb-error: transient): for calls refused or dropped because
// the policy is shutting down.
absl::Status ShuttingDownError();
// RESOURCE_EXHAUSTED (korb-error: transient): `what` ("shared pool", ...)
// already holds `max_queued` waiting calls.
absl::Status QueueFullError(absl::string_view what, size_t max_queued);
// RESOURCE_EXHAUSTED (korb-error: transient): the system refused a thread.
absl::Status NoThreadError(absl::string_view what, absl::string_view reason);

}  // namespace internal
}  // namespace korb

#endif  // KORB_ADAPTER_INTERNAL_POLICY_QUEUE_H_
