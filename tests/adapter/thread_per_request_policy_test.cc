// Thread-per-request on its own, with scripted PendingCalls: every call on a
// thread of its own, the optional cap with its priority queue and bound,
// cached threads reused and ended after idle_timeout, and shutdown.
#include "adapter/thread_per_request_policy.h"

#include <set>
#include <thread>
#include <vector>

#include "common/sync.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/adapter/policy_test_calls.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::CallLog;
using ::korb::testing::Calls;
using ::korb::testing::Eventually;
using ::korb::testing::ScriptedCall;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

// Without a cap, N blocked calls (even to one object, on one connection) all
// run at once, each on its own thread.
TEST(ThreadPerRequestPolicy, RunsEveryCallConcurrently) {
  ThreadPerRequestPolicy policy(0, absl::Seconds(10), 100);
  CallLog log;
  Calls calls;
  int object = 0;
  korb::Notification gate;
  for (int i = 0; i < 5; ++i)
    policy.Execute(calls.Add(&log, i, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(5));
  PolicyStats stats = policy.Stats();
  EXPECT_EQ(stats.threads, 5);
  EXPECT_EQ(stats.queued, 0u);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(5));
  korb::MutexLock lock(&log.mu);
  std::set<std::thread::id> threads;
  for (const auto& [tag, thread] : log.thread_of) threads.insert(thread);
  EXPECT_EQ(threads.size(), 5u);
}

// With a cap of 2, a third call waits in the queue until a running one
// returns.
TEST(ThreadPerRequestPolicy, CapQueuesBeyondMaxThreads) {
  ThreadPerRequestPolicy policy(2, absl::Seconds(10), 100);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  for (int i = 0; i < 3; ++i) policy.Execute(calls.Add(&log, i, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(2));
  PolicyStats stats = policy.Stats();
  EXPECT_EQ(stats.threads, 2);
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_THAT(stats.queued_by_priority, ElementsAre(Pair(0, 1u)));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.max_running, 2);
  EXPECT_EQ(log.ran.size(), 3u);
}

// At the cap, waiting calls leave highest priority first, FIFO within one.
TEST(ThreadPerRequestPolicy, HigherPriorityOvertakesQueuedCalls) {
  ThreadPerRequestPolicy policy(1, absl::Seconds(10), 100);
  CallLog log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, {.gate = &gate});
  policy.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall low1(&log, 1), low2(&log, 2), high(&log, 3, {.priority = 10}),
      mid(&log, 4, {.priority = 5}), negative(&log, 5, {.priority = -1});
  for (ScriptedCall* call : {&low1, &negative, &low2, &high, &mid}) policy.Execute(call);
  EXPECT_THAT(policy.Stats().queued_by_priority,
              ElementsAre(Pair(10, 1u), Pair(5, 1u), Pair(0, 2u), Pair(-1, 1u)));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  EXPECT_EQ(log.Ran(), (std::vector<int>{0, 3, 4, 1, 2, 5}));
}

// At the cap, beyond max_queued waiting calls new calls are rejected as
// transient RESOURCE_EXHAUSTED.
TEST(ThreadPerRequestPolicy, FullQueueRejects) {
  ThreadPerRequestPolicy policy(1, absl::Seconds(10), 1);
  CallLog log;
  korb::Notification gate;
  ScriptedCall running(&log, 0, {.gate = &gate}), waiting(&log, 1), over(&log, 2);
  policy.Execute(&running);
  ASSERT_TRUE(log.AwaitRunning(1));
  policy.Execute(&waiting);
  policy.Execute(&over);
  {
    korb::MutexLock lock(&log.mu);
    ASSERT_EQ(log.rejected.size(), 1u);
    EXPECT_EQ(log.rejected[0].first, 2);
    EXPECT_THAT(log.rejected[0].second, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(ErrorKindOf(log.rejected[0].second), ErrorKind::kTransient);
  }
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  EXPECT_THAT(log.Ran(), ElementsAre(0, 1));
}

// A thread that finished its call is cached and runs the next call instead
// of a new thread.
TEST(ThreadPerRequestPolicy, ReusesCachedThread) {
  ThreadPerRequestPolicy policy(0, absl::Seconds(30), 100);
  CallLog log;
  Calls calls;
  for (int i = 0; i < 5; ++i) {
    // Wait until the previous call's thread is back in the cache.
    ASSERT_TRUE(Eventually([&] { return policy.idle_threads() == (i == 0 ? 0 : 1); }));
    policy.Execute(calls.Add(&log, i));
    ASSERT_TRUE(log.AwaitFinished(i + 1));
  }
  EXPECT_EQ(policy.Stats().threads, 1);
  korb::MutexLock lock(&log.mu);
  for (const auto& [tag, thread] : log.thread_of) {
    EXPECT_EQ(thread, log.thread_of[0]) << "call " << tag << " ran on a new thread";
  }
}

// Cached threads end after idle_timeout without a call; later calls still
// run (on new threads).
TEST(ThreadPerRequestPolicy, CachedThreadsEndAfterIdleTimeout) {
  ThreadPerRequestPolicy policy(0, absl::Milliseconds(50), 100);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  for (int i = 0; i < 3; ++i) policy.Execute(calls.Add(&log, i, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(3));
  EXPECT_EQ(policy.Stats().threads, 3);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }))
      << "cached threads did not end; threads = " << policy.Stats().threads;
  policy.Execute(calls.Add(&log, 3));
  ASSERT_TRUE(log.AwaitFinished(4));
}

// With a zero idle_timeout (the seeds' model) a thread ends with its call.
TEST(ThreadPerRequestPolicy, ZeroIdleTimeoutCachesNothing) {
  ThreadPerRequestPolicy policy(0, absl::ZeroDuration(), 100);
  CallLog log;
  Calls calls;
  for (int i = 0; i < 3; ++i) {
    policy.Execute(calls.Add(&log, i));
    ASSERT_TRUE(log.AwaitFinished(i + 1));
  }
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }));
  EXPECT_EQ(policy.idle_threads(), 0);
}

// Shutdown rejects calls waiting for the cap with UNAVAILABLE (transient),
// waits for the running ones, ends cached threads and refuses later calls.
TEST(ThreadPerRequestPolicy, ShutdownRejectsQueuedAndWaitsForRunning) {
  ThreadPerRequestPolicy policy(2, absl::Seconds(30), 100);
  CallLog log;
  korb::Notification gate;
  ScriptedCall cached(&log, 0);
  policy.Execute(&cached);
  ASSERT_TRUE(log.AwaitFinished(1));
  ScriptedCall run1(&log, 1, {.gate = &gate}), run2(&log, 2, {.gate = &gate}), waiting(&log, 3);
  policy.Execute(&run1);
  policy.Execute(&run2);
  ASSERT_TRUE(log.AwaitRunning(2));
  policy.Execute(&waiting);
  std::thread releaser([&] {
    EXPECT_TRUE(log.AwaitRejected(1));
    gate.Notify();
  });
  policy.Shutdown();
  releaser.join();
  EXPECT_EQ(policy.Stats().threads, 0);
  ScriptedCall late(&log, 4);
  policy.Execute(&late);
  policy.Shutdown();
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.finished, 5);
  EXPECT_THAT(log.ran, ::testing::UnorderedElementsAre(0, 1, 2));
  ASSERT_EQ(log.rejected.size(), 2u);
  EXPECT_EQ(log.rejected[0].first, 3);
  EXPECT_EQ(log.rejected[1].first, 4);
  for (const auto& [tag, status] : log.rejected) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  }
}

}  // namespace
}  // namespace korb
