// Replica selection and failover against several in-process ObjectServers
// that each host one replica of the same object: failover under load when a
// server goes away, the spread of round robin and random, failback after the
// failure backoff, and least-loaded and latency-aware selection moving
// traffic off a slow replica. Assertions are on who served what, never on
// times.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "client/client.h"
#include "client/stub_base.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbclient/register.korb.h"
#include "tests/client/register_servant.h"
#include "tests/client/transports.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::Eventually;
using ::korb::testing::IsOk;
using ::korb::testing::OpText;
using ::korb::testing::ReplicaSet;
using ::korb::testing::StatusIs;

// Runs `calls` calls of `call` spread over `threads` threads; returns the
// number that failed and the first failure.
struct LoadResult {
  int failed = 0;
  absl::Status first_failure;
};
LoadResult RunLoad(int threads, int calls, const std::function<absl::Status()>& call) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  korb::Mutex mu;
  absl::Status first;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (next.fetch_add(1) < calls) {
        absl::Status status = call();
        if (!status.ok()) {
          ++failed;
          korb::MutexLock lock(&mu);
          if (first.ok()) first = status;
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  korb::MutexLock lock(&mu);
  return {failed.load(), first};
}

class ReplicaTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { ASSERT_THAT(replicas_.Start(3), IsOk()); }

  // Calls per replica's servant.
  std::vector<int> Gets() const {
    std::vector<int> gets;
    for (int i = 0; i < replicas_.size(); ++i) gets.push_back(replicas_.servant(i).gets.load());
    return gets;
  }

  ReplicaSet replicas_;
};

// One server of three shuts down while four threads make idempotent calls
// round robin: every call succeeds, and the survivors serve on.
TEST_P(ReplicaTest, FailoverUnderLoadLosesNoCall) {
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kRoundRobin}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  std::atomic<bool> stop{false};
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  korb::Mutex mu;
  std::string first_failure;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        absl::StatusOr<korbclient::Result> result =
            stub.Put(OpText(absl::StrCat(t, "-", i)), {.timeout = absl::Seconds(30)});
        if (!result.ok()) {
          ++failed;
          korb::MutexLock lock(&mu);
          if (first_failure.empty()) first_failure = result.status().ToString();
        }
        ++done;
      }
    });
  }
  ASSERT_TRUE(Eventually([&] { return done.load() >= 200; })) << "no progress before shutdown";
  replicas_.server(1).Shutdown();
  const int puts_at_shutdown_0 = replicas_.servant(0).puts.load();
  const int puts_at_shutdown_2 = replicas_.servant(2).puts.load();
  const int done_at_shutdown = done.load();
  const bool progressed = Eventually([&] { return done.load() >= done_at_shutdown + 400; });
  stop = true;
  for (std::thread& worker : workers) worker.join();
  ASSERT_TRUE(progressed) << "no progress after shutdown";
  EXPECT_EQ(failed.load(), 0) << first_failure;
  EXPECT_GT(replicas_.servant(0).puts.load(), puts_at_shutdown_0);
  EXPECT_GT(replicas_.servant(2).puts.load(), puts_at_shutdown_2);
}

// Asynchronous calls fail over too: the first replica's server is gone, and
// 200 calls in flight at once all succeed on the others.
TEST_P(ReplicaTest, AsyncCallsFailOver) {
  replicas_.server(0).Shutdown();
  Client client(testing::Transport(GetParam()));  // ordered failover
  korbclient::RegisterStub stub(client, replicas_.ref());
  std::vector<Future<korbclient::Result>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(stub.PutAsync(OpText(std::to_string(i)), {.timeout = absl::Seconds(30)}));
  }
  for (const auto& future : futures) {
    ASSERT_TRUE(future.WaitFor(absl::Seconds(60))) << "call never completed";
    EXPECT_THAT(future.Get(), IsOk());
  }
  EXPECT_EQ(replicas_.servant(1).puts.load(), 200);  // the next in order
}

TEST_P(ReplicaTest, RoundRobinVisitsReplicasInTurn) {
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, replicas_.ref());
  stub.korb_set_selection(SelectionPolicy::kRoundRobin);
  for (int i = 0; i < 300; ++i) ASSERT_THAT(stub.Get(OpText("")), IsOk());
  EXPECT_THAT(Gets(), ::testing::ElementsAre(100, 100, 100));
}

TEST_P(ReplicaTest, RandomReachesEveryReplica) {
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kRandom}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  for (int i = 0; i < 300; ++i) ASSERT_THAT(stub.Get(OpText("")), IsOk());
  for (int gets : Gets()) EXPECT_GT(gets, 40);
}

// The call's policy wins over the stub's, which wins over the client's.
TEST_P(ReplicaTest, SelectionPrecedence) {
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kRandom}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  stub.korb_set_selection(SelectionPolicy::kRoundRobin);
  korbclient::RegisterStub copy = stub;
  copy.korb_set_selection(SelectionPolicy::kOrderedFailover);
  EXPECT_EQ(stub.korb_selection(), SelectionPolicy::kRoundRobin) << "copies are independent";
  for (int i = 0; i < 30; ++i) ASSERT_THAT(copy.Get(OpText("")), IsOk());
  EXPECT_THAT(Gets(), ::testing::ElementsAre(30, 0, 0));
  for (int i = 0; i < 30; ++i) {
    ASSERT_THAT(stub.Get(OpText(""), {.selection = SelectionPolicy::kOrderedFailover}), IsOk());
  }
  EXPECT_THAT(Gets(), ::testing::ElementsAre(60, 0, 0));
}

// A replica that failed is skipped for its backoff: one attempt reaches it,
// not one per call.
TEST_P(ReplicaTest, FailedReplicaIsSkippedDuringBackoff) {
  Client client(testing::Transport(GetParam(), {.failback_initial_backoff = absl::Hours(1), .failback_max_backoff = absl::Hours(1)}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  ASSERT_THAT(replicas_.adapter(0).Discard(), IsOk());
  for (int i = 0; i < 50; ++i) {
    absl::StatusOr<korbclient::Result> result = stub.Get(OpText(""));
    ASSERT_THAT(result, IsOk());
    EXPECT_EQ(result->replica(), "r1");
  }
  EndpointStats stats = client.EndpointStatsFor(replicas_.endpoint(0));
  EXPECT_EQ(stats.attempts, 1u);
  EXPECT_EQ(stats.consecutive_failures, 1);
  EXPECT_GT(stats.backoff_until, absl::Now());
}

// A replica that comes back is used again once its backoff ends (failback).
TEST_P(ReplicaTest, FailbackAfterBackoff) {
  Client client(testing::Transport(GetParam(), {.failback_initial_backoff = absl::Milliseconds(50),
                 .failback_max_backoff = absl::Milliseconds(100)}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  ASSERT_THAT(replicas_.adapter(0).Discard(), IsOk());
  absl::StatusOr<korbclient::Result> result = stub.Get(OpText(""));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->replica(), "r1");
  ASSERT_THAT(replicas_.adapter(0).Resume(), IsOk());
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<korbclient::Result> r = stub.Get(OpText(""));
    return r.ok() && r->replica() == "r0";
  })) << "the first replica never got calls again";
  for (int i = 0; i < 10; ++i) {
    result = stub.Get(OpText(""));
    ASSERT_THAT(result, IsOk());
    EXPECT_EQ(result->replica(), "r0");
  }
  EXPECT_EQ(client.EndpointStatsFor(replicas_.endpoint(0)).consecutive_failures, 0);
}

// An overloaded replica (transient RESOURCE_EXHAUSTED) is failed over too.
TEST(ReplicaOverload, OverloadedReplicaIsFailedOver) {
  ReplicaSet replicas;
  ASSERT_THAT(replicas.Start(2, {.threading = ThreadingOptions::SharedPool(2), .max_held_calls = 0}),
              IsOk());
  ASSERT_THAT(replicas.adapter(0).Hold(), IsOk());
  Client client;
  korbclient::RegisterStub stub(client, replicas.ref());
  absl::StatusOr<korbclient::Result> result = stub.Get(OpText(""));
  ASSERT_THAT(result, IsOk());
  EXPECT_EQ(result->replica(), "r1");
  EXPECT_EQ(client.EndpointStatsFor(replicas.endpoint(0)).failures, 1u);
  ASSERT_THAT(replicas.adapter(0).Resume(), IsOk());
}

// Least loaded: a slow replica accumulates calls in flight, so the others
// take most of the traffic.
TEST_P(ReplicaTest, LeastLoadedAvoidsSlowReplica) {
  replicas_.servant(0).delay_ms = 20;
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kLeastLoaded}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  LoadResult load = RunLoad(8, 400, [&] { return stub.Get(OpText("")).status(); });
  EXPECT_EQ(load.failed, 0) << load.first_failure;
  std::vector<int> gets = Gets();
  EXPECT_LT(gets[0], 400 * 30 / 100) << "slow replica's share: " << gets[0] << " of 400";
}

// Least loaded follows the servers' korb-load reports: with no call ever in
// flight at once, the replica reporting the higher load gets few calls.
TEST_P(ReplicaTest, LeastLoadedFollowsReportedLoad) {
  replicas_.servant(0).report_load = 50;
  replicas_.servant(1).report_load = 1;
  replicas_.servant(2).report_load = 40;
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kLeastLoaded}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  for (int i = 0; i < 200; ++i) ASSERT_THAT(stub.Get(OpText("")), IsOk());
  std::vector<int> gets = Gets();
  EXPECT_GT(gets[1], 200 * 90 / 100) << gets[0] << " " << gets[1] << " " << gets[2];
  std::optional<double> load = client.EndpointStatsFor(replicas_.endpoint(0)).load;
  ASSERT_TRUE(load.has_value());
  EXPECT_GE(*load, 50.0);
}

// Latency aware (power of two choices on smoothed latency): the slow replica
// gets a small share.
TEST_P(ReplicaTest, LatencyAwareAvoidsSlowReplica) {
  replicas_.servant(0).delay_ms = 20;
  Client client(testing::Transport(GetParam(), {.selection = SelectionPolicy::kLatencyAware}));
  korbclient::RegisterStub stub(client, replicas_.ref());
  LoadResult load = RunLoad(4, 400, [&] { return stub.Get(OpText("")).status(); });
  EXPECT_EQ(load.failed, 0) << load.first_failure;
  std::vector<int> gets = Gets();
  EXPECT_LT(gets[0], 400 * 30 / 100) << "slow replica's share: " << gets[0] << " of 400";
  std::optional<absl::Duration> slow = client.EndpointStatsFor(replicas_.endpoint(0)).latency;
  std::optional<absl::Duration> fast = client.EndpointStatsFor(replicas_.endpoint(1)).latency;
  ASSERT_TRUE(slow.has_value() && fast.has_value());
  EXPECT_GT(*slow, *fast);
}

// With every replica down, the call fails with UNAVAILABLE after trying
// them (bounded by max_attempts), and says so.
TEST_P(ReplicaTest, AllReplicasDown) {
  for (int i = 0; i < 3; ++i) replicas_.server(i).Shutdown();
  Client client(testing::Transport(GetParam()));
  korbclient::RegisterStub stub(client, replicas_.ref());
  EXPECT_THAT(stub.Get(OpText(""), {.timeout = absl::Seconds(30)}),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("attempts")));
}

INSTANTIATE_TEST_SUITE_P(Transports, ReplicaTest, ::testing::Bool(), testing::TransportName);

}  // namespace
}  // namespace korb
