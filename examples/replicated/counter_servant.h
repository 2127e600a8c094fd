// replicated::CounterImpl: the servant of the replicated example, one per
// replica. It counts what it served (Stats), so that a client or a test can
// see which replica took which share of the calls.
//
// Thread-safety: thread-safe; operations may run concurrently.
#ifndef KORB_EXAMPLES_REPLICATED_COUNTER_SERVANT_H_
#define KORB_EXAMPLES_REPLICATED_COUNTER_SERVANT_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "common/sync.h"
#include "replicated/counter.korb.h"

namespace replicated {

class CounterImpl : public CounterServant {
 public:
  // `replica` names this replica in Get and Stats replies; the counter
  // starts at `initial` (a replica started with another initial value
  // answers writes differently, which invoke-all detects).
  CounterImpl(std::string replica, int64_t initial);

  absl::StatusOr<Value> Get(korb::CallContext& context, const korb::Empty& request) override;
  absl::StatusOr<Value> Add(korb::CallContext& context, const Delta& delta) override;
  absl::StatusOr<Value> Set(korb::CallContext& context, const Delta& delta) override;
  absl::StatusOr<Served> Stats(korb::CallContext& context, const korb::Empty& request) override;

  // Counts an Add reply the server dropped on purpose (reported by Stats).
  void CountDropped() { ++dropped_; }
  // Makes every Get take this long (a slow replica, or calls held in flight
  // for a test). Set before serving.
  void SetGetDelay(absl::Duration delay) { get_delay_ = delay; }

 private:
  const std::string replica_;
  absl::Duration get_delay_ = absl::ZeroDuration();
  mutable korb::Mutex mu_;
  int64_t value_ ABSL_GUARDED_BY(mu_);
  std::atomic<int64_t> gets_{0};
  std::atomic<int64_t> adds_{0};
  std::atomic<int64_t> sets_{0};
  std::atomic<int64_t> dropped_{0};
};

}  // namespace replicated

#endif  // KORB_EXAMPLES_REPLICATED_COUNTER_SERVANT_H_
