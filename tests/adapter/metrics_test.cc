// Adapter metrics units: the latency histogram and TLP computed against a
// fake clock (adapter_metrics_test.cc covers the counters of real calls).
#include "adapter/metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace korb {
namespace {

TEST(LatencyHistogram, PercentilesWithinABucket) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(0.5), 0);
  for (int i = 1; i <= 1000; ++i) h.Add(i);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_DOUBLE_EQ(h.mean_micros(), 500.5);
  // Buckets are 2^(1/4) wide: the reported bound is at most 19 % above.
  EXPECT_GE(h.Percentile(0.5), 500);
  EXPECT_LE(h.Percentile(0.5), 500 * 1.19);
  EXPECT_GE(h.Percentile(0.99), 990);
  EXPECT_LE(h.Percentile(0.99), 990 * 1.19);
  LatencyHistogram other;
  other.Add(1e6);
  h.Merge(other);
  EXPECT_EQ(h.count(), 1001u);
  EXPECT_GE(h.Percentile(1.0), 1e6);
}

// TLP = Σ i·c_i / (1 − c_0): one call for 2 s, two for 1 s, none for 5 s
// gives (1·2 + 2·1) / 3.
TEST(MetricsRecorder, ThreadLevelParallelism) {
  absl::Time now = absl::UnixEpoch();
  MetricsRecorder recorder([&now] { return now; });
  now += absl::Seconds(5);  // idle: does not count
  recorder.CallStarted();
  now += absl::Seconds(1);
  recorder.CallStarted();
  now += absl::Seconds(1);
  recorder.CallEnded();
  now += absl::Seconds(1);
  recorder.CallEnded();
  AdapterMetrics m;
  recorder.Snapshot(&m);
  EXPECT_DOUBLE_EQ(m.tlp, 4.0 / 3.0);
  EXPECT_EQ(m.busy_time, absl::Seconds(3));
  EXPECT_EQ(m.elapsed, absl::Seconds(8));
  EXPECT_EQ(m.running_calls, 0);
  recorder.Reset();
  recorder.Snapshot(&m);
  EXPECT_EQ(m.tlp, 0);
}

// A call still running counts up to the snapshot.
TEST(MetricsRecorder, RunningCallCountsUpToNow) {
  absl::Time now = absl::UnixEpoch();
  MetricsRecorder recorder([&now] { return now; });
  recorder.CallStarted();
  recorder.CallStarted();
  now += absl::Seconds(2);
  AdapterMetrics m;
  recorder.Snapshot(&m);
  EXPECT_DOUBLE_EQ(m.tlp, 2.0);
  EXPECT_EQ(m.running_calls, 2);
}

}  // namespace
}  // namespace korb
