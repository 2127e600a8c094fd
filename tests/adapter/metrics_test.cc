// Adapter metrics: the latency histogram, TLP computed against a fake clock,
// and the counters an adapter keeps for real calls.
#include "adapter/metrics.h"

#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/server_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;

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

class AdapterMetricsTest : public testing::ServerFixture {};

// Calls, errors, latency count, active objects and threads of real calls.
TEST_F(AdapterMetricsTest, CountsCalls) {
  StartServer({.threading = ThreadingOptions::SharedPool(3)});
  korbtest::EchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  for (int i = 0; i < 5; ++i) ASSERT_THAT(stub.Echo(Text("x")), IsOk());
  korbtest::EchoRequest failing = Text("no");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_FALSE(stub.Echo(failing).ok());
  AdapterMetrics m = adapter_->Metrics();
  EXPECT_EQ(m.calls, 6u);
  EXPECT_EQ(m.errors, 1u);
  EXPECT_EQ(m.latency.count(), 6u);
  EXPECT_EQ(m.active_objects, 1u);
  EXPECT_EQ(m.policy.threads, 3);
  EXPECT_EQ(m.policy.queued, 0u);
  EXPECT_GE(m.tlp, 1.0);  // calls ran one at a time at least
  adapter_->ResetMetrics();
  EXPECT_EQ(adapter_->Metrics().calls, 0u);
}

// Calls answered for an object that does not exist count as errors.
TEST_F(AdapterMetricsTest, CountsRefusedCalls) {
  StartServer({});
  korbtest::EchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  ASSERT_THAT(adapter_->Deactivate("o"), IsOk());
  EXPECT_FALSE(stub.Echo(Text("x")).ok());
  AdapterMetrics m = adapter_->Metrics();
  EXPECT_EQ(m.calls, 1u);
  EXPECT_EQ(m.errors, 1u);
  EXPECT_EQ(m.active_objects, 0u);
}

}  // namespace
}  // namespace korb
