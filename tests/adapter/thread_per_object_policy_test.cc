// Thread-per-object on its own, with scripted PendingCalls: per-object FIFO
// without overlap, parallelism across objects, thread lifecycle with
// activation and deactivation (including calls racing with deactivation),
// queue bound, and shutdown.
#include "adapter/thread_per_object_policy.h"

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

// One object's calls run one at a time in arrival order, whatever their
// priorities, all on the object's one thread.
TEST(ThreadPerObjectPolicy, RunsOneObjectsCallsInArrivalOrder) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  Calls calls;
  int object = 0;
  policy.OnObjectActivated(&object);
  korb::Notification gate;
  policy.Execute(calls.Add(&log, 0, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  const int32_t priorities[] = {0, 9, -1, 9, 3};
  for (int i = 1; i <= 5; ++i) {
    policy.Execute(calls.Add(&log, i, {.priority = priorities[i - 1], .object = &object}));
  }
  PolicyStats stats = policy.Stats();
  EXPECT_EQ(stats.threads, 1);
  EXPECT_EQ(stats.queued, 5u);
  EXPECT_THAT(stats.queued_by_priority,
              ElementsAre(Pair(9, 2u), Pair(3, 1u), Pair(0, 1u), Pair(-1, 1u)));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_FALSE(log.overlapped);
  EXPECT_EQ(log.max_running, 1);
  for (const auto& [tag, thread] : log.thread_of) EXPECT_EQ(thread, log.thread_of[0]);
}

// Calls to two different objects run at the same time, on different threads.
TEST(ThreadPerObjectPolicy, RunsDifferentObjectsInParallel) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  int a = 0, b = 0;
  policy.OnObjectActivated(&a);
  policy.OnObjectActivated(&b);
  EXPECT_EQ(policy.Stats().threads, 2);
  korb::Notification gate;
  ScriptedCall to_a(&log, 0, {.object = &a, .gate = &gate});
  ScriptedCall to_b(&log, 1, {.object = &b, .gate = &gate});
  policy.Execute(&to_a);
  policy.Execute(&to_b);
  EXPECT_TRUE(log.AwaitRunning(2)) << "calls to different objects did not overlap";
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(2));
  korb::MutexLock lock(&log.mu);
  EXPECT_NE(log.thread_of[0], log.thread_of[1]);
}

// An active object keeps its thread while idle; deactivation ends it after it
// ran the calls it held.
TEST(ThreadPerObjectPolicy, DeactivationEndsThreadAfterHeldCalls) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  Calls calls;
  int object = 0;
  policy.OnObjectActivated(&object);
  korb::Notification gate;
  policy.Execute(calls.Add(&log, 0, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  policy.Execute(calls.Add(&log, 1, {.object = &object}));
  policy.Execute(calls.Add(&log, 2, {.object = &object}));
  policy.OnObjectDeactivated(&object);
  EXPECT_EQ(policy.Stats().threads, 1);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(3));
  EXPECT_THAT(log.Ran(), ElementsAre(0, 1, 2));
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }))
      << "the deactivated object's thread did not end";
}

// A call that arrives after its object was deactivated (it was bound before)
// still runs, on a thread started for it that ends when it is done; so does a
// call for an object the policy was never told about.
TEST(ThreadPerObjectPolicy, CallAfterDeactivationStillRuns) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  Calls calls;
  int deactivated = 0, unannounced = 0;
  policy.OnObjectActivated(&deactivated);
  policy.OnObjectDeactivated(&deactivated);
  policy.Execute(calls.Add(&log, 0, {.object = &deactivated}));
  policy.Execute(calls.Add(&log, 1, {.object = &unannounced}));
  ASSERT_TRUE(log.AwaitFinished(2));
  EXPECT_TRUE(log.RejectedTags().empty());
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }))
      << "on-demand threads did not end";
}

// Calls arriving for an unannounced object while its on-demand thread is
// busy still run one at a time, in order.
TEST(ThreadPerObjectPolicy, OnDemandThreadSerializes) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  Calls calls;
  int object = 0;
  korb::Notification gate;
  policy.Execute(calls.Add(&log, 0, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  for (int i = 1; i <= 3; ++i) policy.Execute(calls.Add(&log, i, {.object = &object}));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(4));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(log.overlapped);
}

// An identity activated again while its old thread still drains keeps that
// thread, which then waits for calls again.
TEST(ThreadPerObjectPolicy, ReactivationWhileDrainingKeepsThread) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  Calls calls;
  int object = 0;
  policy.OnObjectActivated(&object);
  korb::Notification gate;
  policy.Execute(calls.Add(&log, 0, {.object = &object, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  policy.OnObjectDeactivated(&object);
  policy.OnObjectActivated(&object);
  policy.Execute(calls.Add(&log, 1, {.object = &object}));
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(2));
  EXPECT_EQ(policy.Stats().threads, 1);  // active again: the thread stays
  policy.Execute(calls.Add(&log, 2, {.object = &object}));
  ASSERT_TRUE(log.AwaitFinished(3));
  {
    korb::MutexLock lock(&log.mu);
    EXPECT_EQ(log.ran, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(log.thread_of[2], log.thread_of[0]);
  }
  policy.OnObjectDeactivated(&object);
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }));
}

// Beyond max_queued waiting calls (across objects) new calls are rejected as
// transient RESOURCE_EXHAUSTED; a running call does not count.
TEST(ThreadPerObjectPolicy, FullQueueRejects) {
  ThreadPerObjectPolicy policy(2);
  CallLog log;
  int a = 0, b = 0;
  policy.OnObjectActivated(&a);
  policy.OnObjectActivated(&b);
  korb::Notification gate;
  ScriptedCall running(&log, 0, {.object = &a, .gate = &gate});
  policy.Execute(&running);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall q1(&log, 1, {.object = &a}), q2(&log, 2, {.object = &a}),
      over(&log, 3, {.object = &b});
  policy.Execute(&q1);
  policy.Execute(&q2);
  policy.Execute(&over);
  {
    korb::MutexLock lock(&log.mu);
    ASSERT_EQ(log.rejected.size(), 1u);
    EXPECT_EQ(log.rejected[0].first, 3);
    EXPECT_THAT(log.rejected[0].second, StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(ErrorKindOf(log.rejected[0].second), ErrorKind::kTransient);
  }
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(4));
  EXPECT_THAT(log.Ran(), ElementsAre(0, 1, 2));
}

// Shutdown rejects waiting calls of every object with UNAVAILABLE (transient),
// waits for the running ones, ends every thread, and refuses later calls and
// activations.
TEST(ThreadPerObjectPolicy, ShutdownRejectsQueuedAndWaitsForRunning) {
  ThreadPerObjectPolicy policy(100);
  CallLog log;
  int a = 0, b = 0, idle = 0;
  policy.OnObjectActivated(&a);
  policy.OnObjectActivated(&b);
  policy.OnObjectActivated(&idle);
  korb::Notification gate;
  ScriptedCall run_a(&log, 0, {.object = &a, .gate = &gate});
  ScriptedCall run_b(&log, 1, {.object = &b, .gate = &gate});
  ScriptedCall wait_a(&log, 2, {.object = &a}), wait_b(&log, 3, {.object = &b});
  policy.Execute(&run_a);
  policy.Execute(&run_b);
  ASSERT_TRUE(log.AwaitRunning(2));
  policy.Execute(&wait_a);
  policy.Execute(&wait_b);
  std::thread releaser([&] {
    EXPECT_TRUE(log.AwaitRejected(2));
    gate.Notify();
  });
  policy.Shutdown();
  releaser.join();
  {
    korb::MutexLock lock(&log.mu);
    EXPECT_EQ(log.finished, 4);  // the running calls returned before Shutdown()
    EXPECT_THAT(log.ran, ::testing::UnorderedElementsAre(0, 1));
    for (const auto& [tag, status] : log.rejected) {
      EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
      EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
    }
  }
  EXPECT_EQ(policy.Stats().threads, 0);
  int late_object = 0;
  policy.OnObjectActivated(&late_object);
  EXPECT_EQ(policy.Stats().threads, 0);
  ScriptedCall late(&log, 4, {.object = &late_object});
  policy.Execute(&late);
  EXPECT_THAT(log.RejectedTags(), ::testing::Contains(4));
  policy.OnObjectDeactivated(&a);  // after shutdown: harmless
  policy.Shutdown();
}

}  // namespace
}  // namespace korb
