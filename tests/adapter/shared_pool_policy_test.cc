// The shared pool on its own, with scripted PendingCalls: bounded
// concurrency, priority lanes, queue bound, growth and shrinking, per-object
// serialization, and shutdown.
#include "adapter/shared_pool_policy.h"

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

// A pool of N workers never runs more than N calls at once, and runs them all.
TEST(SharedPoolPolicy, PoolSizeBoundsConcurrency) {
  SharedPoolPolicy pool(2, 100);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  for (int i = 0; i < 6; ++i) pool.Execute(calls.Add(&log, i, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(2));
  EXPECT_EQ(pool.queued(), 4u);
  EXPECT_EQ(pool.Stats().threads, 2);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.max_running, 2);
  EXPECT_EQ(log.ran.size(), 6u);
}

// Queued calls leave highest priority first, FIFO within a priority; Stats()
// reports them per priority, highest first.
TEST(SharedPoolPolicy, HigherPriorityOvertakesQueuedCalls) {
  SharedPoolPolicy pool(1, 100);
  CallLog log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, {.gate = &gate});
  pool.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall low1(&log, 1), low2(&log, 2), high(&log, 3, {.priority = 10}),
      mid(&log, 4, {.priority = 5}), negative(&log, 5, {.priority = -1});
  for (ScriptedCall* call : {&low1, &negative, &low2, &high, &mid}) pool.Execute(call);
  PolicyStats stats = pool.Stats();
  EXPECT_EQ(stats.queued, 5u);
  EXPECT_THAT(stats.queued_by_priority,
              ElementsAre(Pair(10, 1u), Pair(5, 1u), Pair(0, 2u), Pair(-1, 1u)));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  EXPECT_EQ(log.Ran(), (std::vector<int>{0, 3, 4, 1, 2, 5}));
}

// Beyond max_queued waiting calls, new calls are rejected as transient
// RESOURCE_EXHAUSTED.
TEST(SharedPoolPolicy, FullQueueRejects) {
  SharedPoolPolicy pool(1, 2);
  CallLog log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, {.gate = &gate});
  pool.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall a(&log, 1), b(&log, 2), c(&log, 3);
  pool.Execute(&a);
  pool.Execute(&b);
  pool.Execute(&c);
  {
    korb::MutexLock lock(&log.mu);
    ASSERT_EQ(log.rejected.size(), 1u);
    EXPECT_EQ(log.rejected[0].first, 3);
    EXPECT_THAT(log.rejected[0].second, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(ErrorKindOf(log.rejected[0].second), ErrorKind::kTransient);
  }
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(4));
}

// Shutdown rejects queued calls with UNAVAILABLE, waits for the running one,
// refuses later calls, and is idempotent.
TEST(SharedPoolPolicy, ShutdownRejectsQueuedAndLaterCalls) {
  auto pool = std::make_unique<SharedPoolPolicy>(1, 100);
  CallLog log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, {.gate = &gate});
  pool->Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall queued(&log, 1);
  pool->Execute(&queued);
  // Opens the gate once Shutdown() has dropped the queued call, so Shutdown()
  // must then wait for the running one.
  std::thread releaser([&] {
    EXPECT_TRUE(log.AwaitRejected(1));
    gate.Notify();
  });
  pool->Shutdown();
  releaser.join();
  EXPECT_EQ(pool->Stats().threads, 0);
  ScriptedCall late(&log, 2);
  pool->Execute(&late);
  pool->Shutdown();
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, std::vector<int>{0});
  ASSERT_EQ(log.rejected.size(), 2u);
  for (const auto& [tag, status] : log.rejected) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  }
  EXPECT_EQ(log.finished, 3);
}

// A growing pool whose workers are all blocked starts another worker for a
// new call, up to max_pool_threads; beyond that calls queue.
TEST(SharedPoolPolicy, GrowsWhenAllWorkersAreBusy) {
  ThreadingOptions options = ThreadingOptions::GrowingPool(2, 3);
  SharedPoolPolicy pool(options);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  pool.Execute(calls.Add(&log, 0, {.gate = &gate}));
  pool.Execute(calls.Add(&log, 1, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(2));
  EXPECT_EQ(pool.Stats().threads, 2);
  pool.Execute(calls.Add(&log, 2, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(3)) << "the pool did not grow to a third worker";
  EXPECT_EQ(pool.Stats().threads, 3);
  pool.Execute(calls.Add(&log, 3, {.gate = &gate}));
  PolicyStats stats = pool.Stats();
  EXPECT_EQ(stats.threads, 3) << "the pool grew beyond max_pool_threads";
  EXPECT_EQ(stats.queued, 1u);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(4));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.max_running, 3);
}

// Workers beyond pool_threads end after idle_timeout without work; the core
// workers stay, and the pool still serves and grows again afterwards.
TEST(SharedPoolPolicy, ShrinksBackAfterIdleTimeout) {
  ThreadingOptions options = ThreadingOptions::GrowingPool(1, 3);
  options.idle_timeout = absl::Milliseconds(50);
  SharedPoolPolicy pool(options);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  for (int i = 0; i < 3; ++i) pool.Execute(calls.Add(&log, i, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(3));
  EXPECT_EQ(pool.Stats().threads, 3);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  ASSERT_TRUE(Eventually([&] { return pool.Stats().threads == 1; }))
      << "extra workers did not end; threads = " << pool.Stats().threads;
  EXPECT_EQ(pool.Stats().threads, 1) << "a core worker ended";

  korb::Notification gate2;
  pool.Execute(calls.Add(&log, 3, {.gate = &gate2}));
  pool.Execute(calls.Add(&log, 4, {.gate = &gate2}));
  ASSERT_TRUE(log.AwaitRunning(2)) << "the pool did not grow again";
  gate2.Notify();
  ASSERT_TRUE(log.AwaitFinished(5));
}

// A growing pool at its maximum queues by priority like a fixed one.
TEST(SharedPoolPolicy, GrownPoolAtMaximumQueuesByPriority) {
  SharedPoolPolicy pool(ThreadingOptions::GrowingPool(1, 2));
  CallLog log;
  Calls calls;
  korb::Notification gate0, gate1;
  pool.Execute(calls.Add(&log, 0, {.gate = &gate0}));
  pool.Execute(calls.Add(&log, 1, {.gate = &gate1}));
  ASSERT_TRUE(log.AwaitRunning(2));
  pool.Execute(calls.Add(&log, 2, {.priority = 1}));
  pool.Execute(calls.Add(&log, 3, {.priority = 8}));
  pool.Execute(calls.Add(&log, 4, {.priority = 1}));
  EXPECT_EQ(pool.Stats().threads, 2);
  EXPECT_THAT(pool.Stats().queued_by_priority, ElementsAre(Pair(8, 1u), Pair(1, 2u)));
  gate0.Notify();  // one worker drains the queue alone, in priority order
  ASSERT_TRUE(log.AwaitFinished(4));
  std::vector<int> ran = log.Ran();
  EXPECT_THAT(std::vector<int>(ran.begin() + 2, ran.end()), ElementsAre(3, 2, 4));
  gate1.Notify();
  ASSERT_TRUE(log.AwaitFinished(5));
}

// A fixed pool (max_pool_threads <= pool_threads) never grows.
TEST(SharedPoolPolicy, FixedPoolDoesNotGrow) {
  ThreadingOptions options = ThreadingOptions::GrowingPool(2, 1);
  SharedPoolPolicy pool(options);
  CallLog log;
  Calls calls;
  korb::Notification gate;
  for (int i = 0; i < 3; ++i) pool.Execute(calls.Add(&log, i, {.gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(2));
  EXPECT_EQ(pool.Stats().threads, 2);
  EXPECT_EQ(pool.Stats().queued, 1u);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
}

// Serialized per object: one object's calls run one at a time, in arrival
// order, whatever their priorities, on a pool with free workers.
TEST(SharedPoolPolicy, SerializedRunsOneObjectsCallsInArrivalOrder) {
  SharedPoolPolicy pool(ThreadingOptions::SerializedPool(4));
  CallLog log;
  Calls calls;
  int object = 0;
  korb::Notification gate;
  pool.Execute(calls.Add(&log, 0, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  const int32_t priorities[] = {0, 7, -3, 7, 100};
  for (int i = 1; i <= 5; ++i) {
    pool.Execute(calls.Add(&log, i, {.priority = priorities[i - 1], .object = &object}));
  }
  EXPECT_EQ(pool.Stats().queued, 5u);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(log.overlapped);
  EXPECT_EQ(log.max_running, 1);
}

// Serialized per object: calls to two different objects run at the same time.
TEST(SharedPoolPolicy, SerializedRunsDifferentObjectsInParallel) {
  SharedPoolPolicy pool(ThreadingOptions::SerializedPool(2));
  CallLog log;
  int a = 0, b = 0;
  korb::Notification gate;
  ScriptedCall to_a(&log, 0, {.object = &a, .gate = &gate});
  ScriptedCall to_b(&log, 1, {.object = &b, .gate = &gate});
  pool.Execute(&to_a);
  pool.Execute(&to_b);
  EXPECT_TRUE(log.AwaitRunning(2)) << "calls to different objects did not overlap";
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(2));
}

// Serialized per object: a call waiting for its object's turn holds no
// worker, so a two-worker pool blocked in one call of `a` with another call
// of `a` waiting still runs a call to `b`.
TEST(SharedPoolPolicy, SerializedParkedCallHoldsNoWorker) {
  SharedPoolPolicy pool(ThreadingOptions::SerializedPool(2));
  CallLog log;
  int a = 0, b = 0;
  korb::Notification gate_a, gate_b;
  ScriptedCall a1(&log, 0, {.object = &a, .gate = &gate_a});
  ScriptedCall a2(&log, 1, {.object = &a});
  ScriptedCall b1(&log, 2, {.object = &b, .gate = &gate_b});
  pool.Execute(&a1);
  ASSERT_TRUE(log.AwaitRunning(1));
  pool.Execute(&a2);
  pool.Execute(&b1);
  ASSERT_TRUE(log.AwaitRunning(2)) << "the call to b found no worker";
  EXPECT_THAT(log.Ran(), ElementsAre(0, 2));
  PolicyStats stats = pool.Stats();
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_THAT(stats.queued_by_priority, ElementsAre(Pair(0, 1u)));
  gate_a.Notify();
  gate_b.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  EXPECT_THAT(log.Ran(), ElementsAre(0, 2, 1));
}

// Serialized per object: priority orders calls across objects (each object's
// next call enters its priority's lane), never within one object.
TEST(SharedPoolPolicy, SerializedPriorityOrdersAcrossObjects) {
  SharedPoolPolicy pool(ThreadingOptions::SerializedPool(1));
  CallLog log;
  int a = 0, b = 0, c = 0, blocker_object = 0;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, {.object = &blocker_object, .gate = &gate});
  pool.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall a_low(&log, 1, {.priority = 1, .object = &a});
  ScriptedCall a_high(&log, 2, {.priority = 9, .object = &a});  // behind a_low
  ScriptedCall b_mid(&log, 3, {.priority = 5, .object = &b});
  ScriptedCall c_top(&log, 4, {.priority = 7, .object = &c});
  for (ScriptedCall* call : {&a_low, &a_high, &b_mid, &c_top}) pool.Execute(call);
  EXPECT_THAT(pool.Stats().queued_by_priority,
              ElementsAre(Pair(9, 1u), Pair(7, 1u), Pair(5, 1u), Pair(1, 1u)));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(5));
  // c_top (7), b_mid (5), a_low (1); only then is a_high (9) a's next call.
  EXPECT_THAT(log.Ran(), ElementsAre(0, 4, 3, 1, 2));
}

// Serialized per object: shutdown also rejects calls parked behind a running
// call of their object, and waits for the running one.
TEST(SharedPoolPolicy, SerializedShutdownRejectsParkedCalls) {
  SharedPoolPolicy pool(ThreadingOptions::SerializedPool(2));
  CallLog log;
  int a = 0;
  korb::Notification gate;
  ScriptedCall running(&log, 0, {.object = &a, .gate = &gate});
  ScriptedCall parked1(&log, 1, {.object = &a}), parked2(&log, 2, {.object = &a});
  pool.Execute(&running);
  ASSERT_TRUE(log.AwaitRunning(1));
  pool.Execute(&parked1);
  pool.Execute(&parked2);
  std::thread releaser([&] {
    EXPECT_TRUE(log.AwaitRejected(2));
    gate.Notify();
  });
  pool.Shutdown();
  releaser.join();
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, std::vector<int>{0});
  EXPECT_EQ(log.finished, 3);
  ASSERT_EQ(log.rejected.size(), 2u);
  for (const auto& [tag, status] : log.rejected) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
  }
}

}  // namespace
}  // namespace korb
