// The client runtime's policies without a network: replica selection over
// hand-fed endpoint records, the failure backoff and probes of an endpoint
// (failback), the retry backoff with each jitter, request ids, and the wire
// helpers for korb-load and korb-request-id.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "client/endpoint_health.h"
#include "client/policy.h"
#include "client/replica_selector.h"
#include "client/retry.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace korb::internal {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'000'000);

// Endpoint records for a reference with `n` endpoints.
class Endpoints {
 public:
  explicit Endpoints(int n, HealthOptions options = {}) : options_(options) {
    for (int i = 0; i < n; ++i) {
      records_.push_back(std::make_unique<EndpointHealth>(&options_));
      health_.push_back(records_.back().get());
    }
  }
  EndpointHealth& operator[](int i) { return *records_[i]; }
  absl::Span<EndpointHealth* const> health() const { return health_; }

  // An attempt at endpoint `i` that ended with `outcome`.
  void Attempt(int i, AttemptOutcome outcome, absl::Duration latency = absl::Milliseconds(1),
               std::optional<double> load = std::nullopt, absl::Time now = kNow) {
    bool probe = records_[i]->Begin(now);
    records_[i]->End(probe, outcome, latency, load, now);
  }

  // How often each endpoint is picked in `picks` selections.
  std::map<size_t, int> Counts(SelectionPolicy policy, int picks, std::vector<bool> tried = {},
                               absl::Time now = kNow) {
    std::map<size_t, int> counts;
    for (int k = 0; k < picks; ++k) ++counts[SelectReplica(policy, health_, tried, cursor_, now)];
    return counts;
  }

 private:
  HealthOptions options_;
  std::vector<std::unique_ptr<EndpointHealth>> records_;
  std::vector<EndpointHealth*> health_;
  std::atomic<uint32_t> cursor_{0};
};

TEST(SelectReplica, OrderedFailoverTakesFirstHealthy) {
  Endpoints e(3);
  EXPECT_EQ(e.Counts(SelectionPolicy::kOrderedFailover, 10), (std::map<size_t, int>{{0, 10}}));
  e.Attempt(0, AttemptOutcome::kFailure);
  EXPECT_EQ(e.Counts(SelectionPolicy::kOrderedFailover, 10), (std::map<size_t, int>{{1, 10}}));
}

// A call's retry goes to an endpoint it has not tried yet; once it has tried
// them all, to any again.
TEST(SelectReplica, SkipsEndpointsTheCallTried) {
  Endpoints e(3);
  EXPECT_EQ(e.Counts(SelectionPolicy::kOrderedFailover, 5, {true, false, false}),
            (std::map<size_t, int>{{1, 5}}));
  EXPECT_EQ(e.Counts(SelectionPolicy::kOrderedFailover, 5, {true, true, false}),
            (std::map<size_t, int>{{2, 5}}));
  EXPECT_EQ(e.Counts(SelectionPolicy::kOrderedFailover, 5, {true, true, true}),
            (std::map<size_t, int>{{0, 5}}));
}

// When every endpoint is in backoff, the one whose backoff ends first.
TEST(SelectReplica, AllInBackoffTakesEarliestEnd) {
  Endpoints e(3);
  e.Attempt(0, AttemptOutcome::kFailure, absl::Milliseconds(1), std::nullopt, kNow);
  e.Attempt(1, AttemptOutcome::kFailure, absl::Milliseconds(1), std::nullopt,
            kNow - absl::Milliseconds(900));  // ends ~900 ms before the others
  e.Attempt(2, AttemptOutcome::kFailure, absl::Milliseconds(1), std::nullopt, kNow);
  EXPECT_EQ(e.Counts(SelectionPolicy::kRoundRobin, 5), (std::map<size_t, int>{{1, 5}}));
}

TEST(SelectReplica, RoundRobinVisitsEachInTurn) {
  Endpoints e(3);
  EXPECT_EQ(e.Counts(SelectionPolicy::kRoundRobin, 30),
            (std::map<size_t, int>{{0, 10}, {1, 10}, {2, 10}}));
  e.Attempt(1, AttemptOutcome::kFailure);
  EXPECT_EQ(e.Counts(SelectionPolicy::kRoundRobin, 30)[1], 0);
}

TEST(SelectReplica, RandomReachesEveryEndpoint) {
  Endpoints e(3);
  std::map<size_t, int> counts = e.Counts(SelectionPolicy::kRandom, 3000);
  for (size_t i = 0; i < 3; ++i) EXPECT_GT(counts[i], 700) << "endpoint " << i;
}

TEST(SelectReplica, LeastLoadedTakesLowestSmoothedLoad) {
  Endpoints e(3);
  e.Attempt(0, AttemptOutcome::kReply, absl::Milliseconds(1), 5.0);
  e.Attempt(1, AttemptOutcome::kReply, absl::Milliseconds(1), 1.0);
  e.Attempt(2, AttemptOutcome::kReply, absl::Milliseconds(1), 3.0);
  EXPECT_EQ(e.Counts(SelectionPolicy::kLeastLoaded, 10), (std::map<size_t, int>{{1, 10}}));
  // This client's own calls in flight count too.
  for (int k = 0; k < 3; ++k) e[1].Begin(kNow);
  EXPECT_EQ(e.Counts(SelectionPolicy::kLeastLoaded, 10), (std::map<size_t, int>{{2, 10}}));
}

// Figures older than stats_max_age no longer count: the endpoint is probed.
TEST(SelectReplica, StaleLoadCountsAsUnknown) {
  Endpoints e(2, HealthOptions{.stats_max_age = absl::Seconds(10)});
  e.Attempt(0, AttemptOutcome::kReply, absl::Milliseconds(1), 9.0, kNow - absl::Seconds(11));
  e.Attempt(1, AttemptOutcome::kReply, absl::Milliseconds(1), 1.0, kNow);
  EXPECT_EQ(e.Counts(SelectionPolicy::kLeastLoaded, 10), (std::map<size_t, int>{{0, 10}}));
}

TEST(SelectReplica, LatencyAwarePrefersTheFaster) {
  Endpoints e(2);
  e.Attempt(0, AttemptOutcome::kReply, absl::Milliseconds(50));
  e.Attempt(1, AttemptOutcome::kReply, absl::Milliseconds(1));
  EXPECT_EQ(e.Counts(SelectionPolicy::kLatencyAware, 20), (std::map<size_t, int>{{1, 20}}));
  // Of three, the slow one only wins when both random choices are slow ones.
  Endpoints three(3);
  three.Attempt(0, AttemptOutcome::kReply, absl::Milliseconds(50));
  three.Attempt(1, AttemptOutcome::kReply, absl::Milliseconds(1));
  three.Attempt(2, AttemptOutcome::kReply, absl::Milliseconds(2));
  EXPECT_EQ(three.Counts(SelectionPolicy::kLatencyAware, 300)[0], 0);
}

// An endpoint without a latency figure is probed when idle, avoided while
// its first answer is pending.
TEST(SelectReplica, LatencyAwareProbesUnknownEndpoints) {
  Endpoints e(2);
  e.Attempt(0, AttemptOutcome::kReply, absl::Milliseconds(5));
  EXPECT_EQ(e.Counts(SelectionPolicy::kLatencyAware, 10), (std::map<size_t, int>{{1, 10}}));
  e[1].Begin(kNow);
  EXPECT_EQ(e.Counts(SelectionPolicy::kLatencyAware, 10), (std::map<size_t, int>{{0, 10}}));
}

TEST(EndpointHealth, SmoothsLoadAndLatency) {
  HealthOptions options{.load_smoothing = 0.5, .latency_smoothing = 0.5};
  EndpointHealth health(&options);
  health.End(health.Begin(kNow), AttemptOutcome::kReply, absl::Milliseconds(10), 4.0, kNow);
  health.End(health.Begin(kNow), AttemptOutcome::kReply, absl::Milliseconds(20), 2.0, kNow);
  EndpointStats stats = health.Stats();
  EXPECT_EQ(stats.load, 3.0);
  EXPECT_EQ(stats.latency, absl::Milliseconds(15));
  EXPECT_EQ(stats.attempts, 2u);
  EXPECT_EQ(stats.in_flight, 0);
}

// A failure starts a backoff; failures of attempts already in flight do not
// escalate it; after the backoff exactly one probe may go; a failed probe
// doubles the backoff (capped); a reply ends it.
TEST(EndpointHealth, BackoffProbesAndFailback) {
  HealthOptions options{.failback_initial_backoff = absl::Seconds(1),
                        .failback_max_backoff = absl::Seconds(3)};
  EndpointHealth health(&options);
  bool a = health.Begin(kNow);
  bool b = health.Begin(kNow);
  EXPECT_FALSE(a);
  health.End(a, AttemptOutcome::kFailure, absl::ZeroDuration(), std::nullopt, kNow);
  health.End(b, AttemptOutcome::kFailure, absl::ZeroDuration(), std::nullopt, kNow);
  EXPECT_EQ(health.Stats().consecutive_failures, 1);
  EXPECT_EQ(health.Stats().failures, 2u);
  EXPECT_FALSE(health.Snapshot(kNow).available);
  EXPECT_LE(health.Snapshot(kNow).available_at, kNow + absl::Seconds(1));
  EXPECT_GE(health.Snapshot(kNow).available_at, kNow + absl::Milliseconds(800));

  absl::Time later = kNow + absl::Seconds(1);
  EXPECT_TRUE(health.Snapshot(later).available);
  bool probe = health.Begin(later);
  EXPECT_TRUE(probe);
  EXPECT_FALSE(health.Snapshot(later).available) << "one probe at a time";
  health.End(probe, AttemptOutcome::kFailure, absl::ZeroDuration(), std::nullopt, later);
  EXPECT_EQ(health.Stats().consecutive_failures, 2);
  EXPECT_GE(health.Stats().backoff_until, later + absl::Milliseconds(1600));

  for (int i = 0; i < 5; ++i) {
    later = health.Stats().backoff_until;
    probe = health.Begin(later);
    health.End(probe, AttemptOutcome::kFailure, absl::ZeroDuration(), std::nullopt, later);
    EXPECT_LE(health.Stats().backoff_until, later + absl::Seconds(3)) << "capped";
  }

  later = health.Stats().backoff_until;
  probe = health.Begin(later);
  health.End(probe, AttemptOutcome::kReply, absl::Milliseconds(1), std::nullopt, later);
  EXPECT_EQ(health.Stats().consecutive_failures, 0);
  EXPECT_TRUE(health.Snapshot(later).available);
}

// A cancelled or timed-out attempt says nothing about the endpoint.
TEST(EndpointHealth, NeitherOutcomeLeavesHealthAlone) {
  HealthOptions options;
  EndpointHealth health(&options);
  health.End(health.Begin(kNow), AttemptOutcome::kNeither, absl::Seconds(5), std::nullopt, kNow);
  EXPECT_TRUE(health.Snapshot(kNow).available);
  EXPECT_FALSE(health.Stats().latency.has_value());
}

TEST(Backoff, ExponentialWithoutJitterIsCapped) {
  RetryPolicy policy{.initial_backoff = absl::Milliseconds(50),
                     .max_backoff = absl::Milliseconds(300),
                     .multiplier = 2.0,
                     .jitter = Jitter::kNone};
  Backoff backoff(policy);
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 5; ++i) waits.push_back(backoff.Next());
  EXPECT_THAT(waits, ::testing::ElementsAre(absl::Milliseconds(50), absl::Milliseconds(100),
                                            absl::Milliseconds(200), absl::Milliseconds(300),
                                            absl::Milliseconds(300)));
}

TEST(Backoff, FullJitterStaysUnderTheCap) {
  RetryPolicy policy{.initial_backoff = absl::Milliseconds(50),
                     .max_backoff = absl::Milliseconds(300),
                     .jitter = Jitter::kFull};
  for (int run = 0; run < 100; ++run) {
    Backoff backoff(policy);
    absl::Duration cap = absl::Milliseconds(50);
    for (int i = 0; i < 6; ++i) {
      absl::Duration wait = backoff.Next();
      EXPECT_GE(wait, absl::ZeroDuration());
      EXPECT_LE(wait, cap);
      cap = std::min(cap * 2, absl::Milliseconds(300));
    }
  }
}

TEST(Backoff, DecorrelatedJitterStaysInItsRange) {
  RetryPolicy policy{.initial_backoff = absl::Milliseconds(10),
                     .max_backoff = absl::Seconds(1),
                     .jitter = Jitter::kDecorrelated};
  for (int run = 0; run < 100; ++run) {
    Backoff backoff(policy);
    absl::Duration previous = absl::Milliseconds(10);
    for (int i = 0; i < 8; ++i) {
      absl::Duration wait = backoff.Next();
      EXPECT_GE(wait, absl::Milliseconds(10));
      EXPECT_LE(wait, std::min(absl::Seconds(1), previous * 3) + absl::Nanoseconds(1));
      previous = wait;
    }
  }
}

TEST(Retry, TransientFailures) {
  EXPECT_TRUE(IsTransientFailure(absl::UnavailableError("x")));
  EXPECT_TRUE(IsTransientFailure(
      WithErrorKind(absl::ResourceExhaustedError("queue full"), ErrorKind::kTransient)));
  EXPECT_FALSE(IsTransientFailure(absl::ResourceExhaustedError("message too large")));
  EXPECT_FALSE(IsTransientFailure(absl::DeadlineExceededError("x")));
  EXPECT_FALSE(IsTransientFailure(absl::CancelledError("x")));
  EXPECT_FALSE(IsTransientFailure(absl::FailedPreconditionError("x")));
  EXPECT_FALSE(IsTransientFailure(absl::OkStatus()));
}

TEST(Retry, RequestIdsAreFreshValidAndDistinct) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewRequestId();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_TRUE(IsValidRequestId(id)) << id;
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(Retry, AnnotateKeepsCodeAndKind) {
  absl::Status status = Annotate(
      WithErrorKind(absl::UnavailableError("down"), ErrorKind::kTransient), "after 3 attempts");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status.message(), "down (after 3 attempts)");
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
}

TEST(Wire, ParseLoad) {
  EXPECT_EQ(ParseLoad("3"), 3.0);
  EXPECT_EQ(ParseLoad("2.5"), 2.5);
  EXPECT_EQ(ParseLoad("0"), 0.0);
  EXPECT_EQ(ParseLoad("1e+06"), 1e6);
  EXPECT_EQ(ParseLoad(""), std::nullopt);
  EXPECT_EQ(ParseLoad("-1"), std::nullopt);
  EXPECT_EQ(ParseLoad("busy"), std::nullopt);
  EXPECT_EQ(ParseLoad("nan"), std::nullopt);
  EXPECT_EQ(ParseLoad("inf"), std::nullopt);
}

TEST(Wire, RequestIdValidity) {
  EXPECT_TRUE(IsValidRequestId("a"));
  EXPECT_TRUE(IsValidRequestId(std::string(64, 'x')));
  EXPECT_FALSE(IsValidRequestId(std::string(65, 'x')));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("has space"));
  EXPECT_FALSE(IsValidRequestId("caf\xc3\xa9"));
}

TEST(Policy, Names) {
  EXPECT_EQ(SelectionPolicyName(SelectionPolicy::kLatencyAware), "latency-aware");
  EXPECT_EQ(CompletionName(Completion::kMajority), "majority");
}

}  // namespace
}  // namespace korb::internal
