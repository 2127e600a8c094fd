// Per-adapter metrics: calls, errors, latency distribution, concurrency and
// the seeds' thread-level parallelism
//   TLP = Σ i·c_i / (1 − c_0)
// where c_i is the fraction of time during which exactly i servant calls are
// executing at once: the average number of calls running, over the time at
// least one runs.
//
// MetricsRecorder is what the adapter updates on every call, LifecycleCounters
// what it updates as servant managers' objects come and go; AdapterMetrics is
// the snapshot ObjectAdapter::Metrics() returns.
//
// Thread-safety: MetricsRecorder and LifecycleCounters are thread-safe;
// AdapterMetrics is a thread-compatible value.
//
// Usage:
//   korb::AdapterMetrics m = adapter->Metrics();
//   std::cout << m.calls << " calls, p99 " << m.latency.Percentile(0.99)
//             << " us, TLP " << m.tlp << "\n";
#ifndef KORB_ADAPTER_METRICS_H_
#define KORB_ADAPTER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "adapter/threading_policy.h"
#include "common/sync.h"

namespace korb {

// Latencies in microseconds in logarithmic buckets (4 per power of two,
// from 1 us to about 1 hour): percentiles within 19 % of the true value.
class LatencyHistogram {
 public:
  static constexpr int kBuckets = 4 * 32;

  void Add(double micros);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  double sum_micros() const { return sum_micros_; }
  double mean_micros() const { return count_ == 0 ? 0 : sum_micros_ / count_; }
  // Upper bound of the bucket holding quantile `q` (0..1); 0 if empty.
  double Percentile(double q) const;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
  double sum_micros_ = 0;
};

// What happened to objects a ServantActivator supplies (docs/adapter.md).
struct LifecycleStats {
  uint64_t incarnations = 0;         // servants incarnated (state loaded, if persistent)
  uint64_t failed_incarnations = 0;  // Incarnate() or the state load failed
  uint64_t etherealizations = 0;     // servants etherealized, for any reason
  uint64_t evictions = 0;            // of which evicted (idle timeout or active-object cap)
  uint64_t saves = 0;                // states saved to the state store
  // Failed saves. Write-through: the call failed and the change was dropped.
  // Write-back: the object's changes since its incarnation are lost.
  uint64_t failed_saves = 0;
};

// An adapter's objects (explicitly activated or incarnated) by lifecycle
// state, now (docs/architecture.md, "Object lifecycle"). Gauges:
// ResetMetrics() leaves them.
struct ObjectStateCounts {
  size_t pending = 0;        // in the map, waiting for their first call to incarnate them
  size_t incarnating = 0;    // in the map, being incarnated
  size_t ready = 0;          // in the map with a servant
  size_t leaving = 0;        // out of the map, calls still bound (incarnated or not yet)
  size_t failed = 0;         // incarnation failed, its calls still being answered
  size_t etherealizing = 0;  // no call left, being saved and etherealized
};

struct AdapterMetrics {
  uint64_t calls = 0;   // calls answered (run or rejected), since creation or reset
  uint64_t errors = 0;  // of which answered with a non-OK status
  uint64_t cancelled = 0;  // calls whose caller cancelled (or whose deadline passed) before the answer
  LatencyHistogram latency;  // from routing to reply, answered calls
  PolicyStats policy;        // threads and queue depths, all of the adapter's policies
  size_t active_objects = 0;
  size_t held_calls = 0;     // calls waiting while the adapter is holding
  int running_calls = 0;     // servant calls executing now
  double tlp = 0;            // Σ i·c_i / (1 − c_0); 0 if no call ran
  absl::Duration busy_time;  // time with at least one servant call executing
  absl::Duration elapsed;    // time since creation or reset
  LifecycleStats lifecycle;  // since creation or reset
  ObjectStateCounts objects;  // now
};

class LifecycleCounters {
 public:
  enum Event { kIncarnated, kIncarnationFailed, kEtherealized, kEvicted, kSaved, kSaveFailed };

  void Count(Event event) { counts_[event].fetch_add(1, std::memory_order_relaxed); }
  void Snapshot(LifecycleStats* stats) const;
  void Reset();

 private:
  std::array<std::atomic<uint64_t>, kSaveFailed + 1> counts_{};
};

class MetricsRecorder {
 public:
  // `clock` tells the time (tests pass a fake one).
  explicit MetricsRecorder(std::function<absl::Time()> clock = &absl::Now);

  // A servant call starts / ends executing (brackets korb_dispatch).
  void CallStarted() ABSL_LOCKS_EXCLUDED(mu_);
  void CallEnded() ABSL_LOCKS_EXCLUDED(mu_);
  // The caller of a call not yet answered cancelled it.
  void CallCancelled() ABSL_LOCKS_EXCLUDED(mu_);
  // A call was answered after `latency` with `ok` status.
  void CallAnswered(absl::Duration latency, bool ok) ABSL_LOCKS_EXCLUDED(mu_);

  // Fills the fields this recorder owns (calls, errors, cancelled, latency,
  // running calls, tlp, busy time, elapsed).
  void Snapshot(AdapterMetrics* metrics) const ABSL_LOCKS_EXCLUDED(mu_);
  void Reset() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Adds the time since the last change to the current concurrency level.
  void AccountLocked(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<absl::Time()> clock_;
  mutable Mutex mu_;
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t cancelled_ ABSL_GUARDED_BY(mu_) = 0;
  LatencyHistogram latency_ ABSL_GUARDED_BY(mu_);
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time start_ ABSL_GUARDED_BY(mu_);
  // Time-weighted concurrency, accounted lazily up to last_change_.
  mutable absl::Time last_change_ ABSL_GUARDED_BY(mu_);
  mutable double weighted_running_seconds_ ABSL_GUARDED_BY(mu_) = 0;  // Σ i·t_i
  mutable double busy_seconds_ ABSL_GUARDED_BY(mu_) = 0;              // Σ_{i>0} t_i
};

}  // namespace korb

#endif  // KORB_ADAPTER_METRICS_H_
