#include "adapter/metrics.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace korb {

void LatencyHistogram::Add(double micros) {
  int bucket = micros <= 1 ? 0 : static_cast<int>(4 * std::log2(micros));
  buckets_[std::clamp(bucket, 0, kBuckets - 1)]++;
  ++count_;
  sum_micros_ += micros;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_micros_ += other.sum_micros_;
}

double LatencyHistogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen >= rank && seen > 0) return std::exp2((i + 1) / 4.0);
  }
  return std::exp2(kBuckets / 4.0);
}

MetricsRecorder::MetricsRecorder(std::function<absl::Time()> clock) : clock_(std::move(clock)) {
  absl::Time now = clock_();
  MutexLock lock(&mu_);
  start_ = now;
  last_change_ = now;
}

void MetricsRecorder::AccountLocked(absl::Time now) const {
  double seconds = absl::ToDoubleSeconds(now - last_change_);
  if (seconds > 0 && running_ > 0) {
    weighted_running_seconds_ += running_ * seconds;
    busy_seconds_ += seconds;
  }
  last_change_ = now;
}

void MetricsRecorder::CallStarted() {
  absl::Time now = clock_();
  MutexLock lock(&mu_);
  AccountLocked(now);
  ++running_;
}

void MetricsRecorder::CallEnded() {
  absl::Time now = clock_();
  MutexLock lock(&mu_);
  AccountLocked(now);
  --running_;
}

void MetricsRecorder::CallCancelled() {
  MutexLock lock(&mu_);
  ++cancelled_;
}

void MetricsRecorder::CallAnswered(absl::Duration latency, bool ok) {
  MutexLock lock(&mu_);
  ++calls_;
  if (!ok) ++errors_;
  latency_.Add(absl::ToDoubleMicroseconds(latency));
}

void MetricsRecorder::Snapshot(AdapterMetrics* metrics) const {
  absl::Time now = clock_();
  MutexLock lock(&mu_);
  AccountLocked(now);
  metrics->calls = calls_;
  metrics->errors = errors_;
  metrics->cancelled = cancelled_;
  metrics->latency = latency_;
  metrics->running_calls = running_;
  metrics->tlp = busy_seconds_ > 0 ? weighted_running_seconds_ / busy_seconds_ : 0;
  metrics->busy_time = absl::Seconds(busy_seconds_);
  metrics->elapsed = now - start_;
}

void MetricsRecorder::Reset() {
  absl::Time now = clock_();
  MutexLock lock(&mu_);
  calls_ = 0;
  errors_ = 0;
  cancelled_ = 0;
  latency_ = LatencyHistogram();
  start_ = now;
  last_change_ = now;
  weighted_running_seconds_ = 0;
  busy_seconds_ = 0;
}

void LifecycleCounters::Snapshot(LifecycleStats* stats) const {
  auto read = [this](Event event) { return counts_[event].load(std::memory_order_relaxed); };
  stats->incarnations = read(kIncarnated);
  stats->failed_incarnations = read(kIncarnationFailed);
  stats->etherealizations = read(kEtherealized);
  stats->evictions = read(kEvicted);
  stats->saves = read(kSaved);
  stats->failed_saves = read(kSaveFailed);
}

void LifecycleCounters::Reset() {
  for (std::atomic<uint64_t>& count : counts_) count.store(0, std::memory_order_relaxed);
}

}  // namespace korb
