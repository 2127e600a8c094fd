// Thread-per-connection on its own, with scripted PendingCalls: one
// connection's calls in arrival order without overlap, connections in
// parallel, threads ending after idle_timeout, queue bound, and shutdown.
#include "adapter/thread_per_connection_policy.h"

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

constexpr char kPeerA[] = "ipv4:127.0.0.1:50001";
constexpr char kPeerB[] = "ipv6:[::1]:50002";

// One connection's calls run one at a time in arrival order, whatever their
// priorities or target objects, all on the connection's thread.
TEST(ThreadPerConnectionPolicy, SerializesOneConnection) {
  ThreadPerConnectionPolicy policy(absl::Seconds(10), 100);
  CallLog log;
  Calls calls;
  int object = 0;
  korb::Notification gate;
  policy.Execute(calls.Add(&log, 0, {.object = &object, .connection = kPeerA, .gate = &gate}));
  ASSERT_TRUE(log.AwaitRunning(1));
  const int32_t priorities[] = {0, 5, -5, 5};
  for (int i = 1; i <= 4; ++i) {
    policy.Execute(calls.Add(
        &log, i, {.priority = priorities[i - 1], .object = &object, .connection = kPeerA}));
  }
  EXPECT_EQ(policy.Stats().queued, 4u);
  EXPECT_EQ(policy.Stats().threads, 1);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(5));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(log.overlapped);
  EXPECT_EQ(log.max_running, 1);
  for (const auto& [tag, thread] : log.thread_of) EXPECT_EQ(thread, log.thread_of[0]);
}

// Calls on two connections run at the same time, even to one object.
TEST(ThreadPerConnectionPolicy, RunsConnectionsInParallel) {
  ThreadPerConnectionPolicy policy(absl::Seconds(10), 100);
  CallLog log;
  int object = 0;
  korb::Notification gate;
  ScriptedCall on_a(&log, 0, {.object = &object, .connection = kPeerA, .gate = &gate});
  ScriptedCall on_b(&log, 1, {.object = &object, .connection = kPeerB, .gate = &gate});
  policy.Execute(&on_a);
  policy.Execute(&on_b);
  EXPECT_TRUE(log.AwaitRunning(2)) << "calls on different connections did not overlap";
  EXPECT_EQ(policy.Stats().threads, 2);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(2));
}

// A connection's thread stays between calls, ends after idle_timeout without
// calls, and a later call on that connection starts a new one.
TEST(ThreadPerConnectionPolicy, ThreadEndsAfterIdleTimeout) {
  ThreadPerConnectionPolicy policy(absl::Milliseconds(50), 100);
  CallLog log;
  Calls calls;
  policy.Execute(calls.Add(&log, 0, {.connection = kPeerA}));
  policy.Execute(calls.Add(&log, 1, {.connection = kPeerB}));
  ASSERT_TRUE(log.AwaitFinished(2));
  EXPECT_TRUE(Eventually([&] { return policy.Stats().threads == 0; }))
      << "idle connection threads did not end; threads = " << policy.Stats().threads;
  policy.Execute(calls.Add(&log, 2, {.connection = kPeerA}));
  ASSERT_TRUE(log.AwaitFinished(3));
  EXPECT_TRUE(log.RejectedTags().empty());
}

// Beyond max_queued waiting calls (across connections) new calls are
// rejected as transient RESOURCE_EXHAUSTED.
TEST(ThreadPerConnectionPolicy, FullQueueRejects) {
  ThreadPerConnectionPolicy policy(absl::Seconds(10), 1);
  CallLog log;
  korb::Notification gate;
  ScriptedCall running(&log, 0, {.connection = kPeerA, .gate = &gate});
  ScriptedCall waiting(&log, 1, {.connection = kPeerA});
  ScriptedCall over(&log, 2, {.connection = kPeerB});
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

// Shutdown rejects waiting calls with UNAVAILABLE (transient), waits for the
// running ones, ends idle connection threads and refuses later calls.
TEST(ThreadPerConnectionPolicy, ShutdownRejectsQueuedAndWaitsForRunning) {
  ThreadPerConnectionPolicy policy(absl::Seconds(30), 100);
  CallLog log;
  korb::Notification gate;
  ScriptedCall idle_b(&log, 0, {.connection = kPeerB});
  policy.Execute(&idle_b);
  ASSERT_TRUE(log.AwaitFinished(1));
  ScriptedCall running(&log, 1, {.connection = kPeerA, .gate = &gate});
  ScriptedCall waiting(&log, 2, {.connection = kPeerA});
  policy.Execute(&running);
  ASSERT_TRUE(log.AwaitRunning(1));
  policy.Execute(&waiting);
  EXPECT_EQ(policy.Stats().threads, 2);
  std::thread releaser([&] {
    EXPECT_TRUE(log.AwaitRejected(1));
    gate.Notify();
  });
  policy.Shutdown();
  releaser.join();
  EXPECT_EQ(policy.Stats().threads, 0);
  ScriptedCall late(&log, 3, {.connection = kPeerA});
  policy.Execute(&late);
  policy.Shutdown();
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.finished, 4);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 1}));
  ASSERT_EQ(log.rejected.size(), 2u);
  EXPECT_EQ(log.rejected[0].first, 2);
  EXPECT_EQ(log.rejected[1].first, 3);
  for (const auto& [tag, status] : log.rejected) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  }
}

}  // namespace
}  // namespace korb
