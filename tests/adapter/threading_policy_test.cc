// MakeThreadingPolicy(): option validation and the kinds it builds; and the
// contract every built-in policy keeps, run against each of them: shutdown
// with running and queued calls, concurrent and repeated shutdown, and a call
// racing with its object's deactivation.
#include "adapter/threading_policy.h"

#include <memory>
#include <string>
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
using ::korb::testing::IsOk;
using ::korb::testing::ScriptedCall;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

std::string NameOf(const ThreadingOptions& options) {
  absl::StatusOr<std::unique_ptr<ThreadingPolicy>> policy = MakeThreadingPolicy(options);
  if (!policy.ok()) return std::string(policy.status().ToString());
  return std::string((*policy)->name());
}

// Each kind builds the matching policy.
TEST(MakeThreadingPolicy, BuildsEveryKind) {
  EXPECT_EQ(NameOf(ThreadingOptions::Inline()), "inline");
  EXPECT_EQ(NameOf(ThreadingOptions::SharedPool(2)), "pool");
  EXPECT_EQ(NameOf(ThreadingOptions::SharedPool(0)), "pool");
  EXPECT_EQ(NameOf(ThreadingOptions::GrowingPool(1, 4)), "pool");
  EXPECT_EQ(NameOf(ThreadingOptions::SerializedPool(2)), "pool");
  EXPECT_EQ(NameOf(ThreadingOptions::ThreadPerObject()), "thread-per-object");
  EXPECT_EQ(NameOf(ThreadingOptions::ThreadPerRequest()), "thread-per-request");
  EXPECT_EQ(NameOf(ThreadingOptions::ThreadPerRequest(8)), "thread-per-request");
  EXPECT_EQ(NameOf(ThreadingOptions::ThreadPerConnection()), "thread-per-connection");
}

// A default shared pool has max(4, hardware threads) workers.
TEST(MakeThreadingPolicy, DefaultPoolSize) {
  auto policy = MakeThreadingPolicy(ThreadingOptions::SharedPool(0));
  ASSERT_THAT(policy, IsOk());
  EXPECT_GE((*policy)->Stats().threads, 4);
}

// Bad values are INVALID_ARGUMENT naming the field.
TEST(MakeThreadingPolicy, RejectsBadOptions) {
  struct Case {
    ThreadingOptions options;
    std::string field;
  };
  ThreadingOptions negative_idle = ThreadingOptions::ThreadPerConnection();
  negative_idle.idle_timeout = absl::Seconds(-1);
  ThreadingOptions negative_idle_pool = ThreadingOptions::GrowingPool(1, 2);
  negative_idle_pool.idle_timeout = absl::Milliseconds(-1);
  ThreadingOptions no_queue_pool = ThreadingOptions::SharedPool(1);
  no_queue_pool.max_queued_calls = 0;
  ThreadingOptions no_queue_object = ThreadingOptions::ThreadPerObject();
  no_queue_object.max_queued_calls = 0;
  ThreadingOptions no_queue_capped = ThreadingOptions::ThreadPerRequest(2);
  no_queue_capped.max_queued_calls = 0;
  ThreadingOptions no_queue_connection = ThreadingOptions::ThreadPerConnection();
  no_queue_connection.max_queued_calls = 0;
  const Case cases[] = {
      {ThreadingOptions::SharedPool(-1), "pool_threads"},
      {ThreadingOptions::GrowingPool(1, -2), "max_pool_threads"},
      {negative_idle_pool, "idle_timeout"},
      {no_queue_pool, "max_queued_calls"},
      {no_queue_object, "max_queued_calls"},
      {ThreadingOptions::ThreadPerRequest(-1), "max_threads"},
      {no_queue_capped, "max_queued_calls"},
      {negative_idle, "idle_timeout"},
      {no_queue_connection, "max_queued_calls"},
      {{.kind = static_cast<ThreadingOptions::Kind>(99)}, "kind"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(MakeThreadingPolicy(c.options),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)))
        << "expected a complaint about " << c.field;
  }
}

// Fields a kind does not use are not checked.
TEST(MakeThreadingPolicy, IgnoresFieldsTheKindDoesNotUse) {
  ThreadingOptions inline_options = ThreadingOptions::Inline();
  inline_options.pool_threads = -5;
  inline_options.max_queued_calls = 0;
  EXPECT_THAT(MakeThreadingPolicy(inline_options), IsOk());
  ThreadingOptions uncapped = ThreadingOptions::ThreadPerRequest(0);
  uncapped.max_queued_calls = 0;  // no cap, so no queue
  uncapped.pool_threads = -1;
  EXPECT_THAT(MakeThreadingPolicy(uncapped), IsOk());
  ThreadingOptions per_object = ThreadingOptions::ThreadPerObject();
  per_object.idle_timeout = absl::Seconds(-1);
  EXPECT_THAT(MakeThreadingPolicy(per_object), IsOk());
}

// The inline policy runs a call on the caller's thread.
TEST(MakeThreadingPolicy, InlineRunsOnCallersThread) {
  auto policy = MakeThreadingPolicy(ThreadingOptions::Inline());
  ASSERT_THAT(policy, IsOk());
  CallLog log;
  ScriptedCall call(&log, 0);
  (*policy)->Execute(&call);
  korb::MutexLock lock(&log.mu);
  ASSERT_EQ(log.finished, 1);
  EXPECT_EQ(log.thread_of[0], std::this_thread::get_id());
}

// Every threaded policy, configured so that a second call to the same object
// on the same connection waits while the first runs.
struct PolicyCase {
  std::string name;
  ThreadingOptions options;
};

class EveryPolicy : public ::testing::TestWithParam<PolicyCase> {
 protected:
  void SetUp() override {
    auto policy = MakeThreadingPolicy(GetParam().options);
    ASSERT_THAT(policy, IsOk());
    policy_ = *std::move(policy);
  }

  std::unique_ptr<ThreadingPolicy> policy_;
  CallLog log_;
  int object_ = 0;
};

// Shutdown rejects the waiting call with UNAVAILABLE (transient), returns
// only after the running call did, leaves no thread, and rejects later calls
// the same way; a second Shutdown() is a no-op.
TEST_P(EveryPolicy, ShutdownRejectsQueuedAndWaitsForRunning) {
  korb::Notification gate;
  policy_->OnObjectActivated(&object_);
  ScriptedCall running(&log_, 0, {.object = &object_, .gate = &gate});
  ScriptedCall waiting(&log_, 1, {.priority = 3, .object = &object_});
  policy_->Execute(&running);
  ASSERT_TRUE(log_.AwaitRunning(1));
  policy_->Execute(&waiting);
  PolicyStats stats = policy_->Stats();
  EXPECT_EQ(stats.queued, 1u);
  EXPECT_THAT(stats.queued_by_priority, ::testing::ElementsAre(::testing::Pair(3, 1u)));
  EXPECT_GE(stats.threads, 1);
  std::thread releaser([&] {
    EXPECT_TRUE(log_.AwaitRejected(1));
    gate.Notify();
  });
  policy_->Shutdown();
  {
    korb::MutexLock lock(&log_.mu);
    EXPECT_EQ(log_.running, 0) << "Shutdown() returned while a call ran";
    EXPECT_EQ(log_.finished, 2);
  }
  releaser.join();
  stats = policy_->Stats();
  EXPECT_EQ(stats.threads, 0);
  EXPECT_EQ(stats.queued, 0u);
  ScriptedCall late(&log_, 2, {.object = &object_});
  policy_->Execute(&late);
  policy_->Shutdown();
  policy_->OnObjectDeactivated(&object_);
  korb::MutexLock lock(&log_.mu);
  EXPECT_EQ(log_.ran, std::vector<int>{0});
  ASSERT_EQ(log_.rejected.size(), 2u);
  for (const auto& [tag, status] : log_.rejected) {
    EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable));
    EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  }
}

// Shutdown() from several threads at once, while a call runs, is safe; each
// returns once the call did.
TEST_P(EveryPolicy, ConcurrentShutdownIsSafe) {
  korb::Notification gate;
  ScriptedCall running(&log_, 0, {.object = &object_, .gate = &gate});
  policy_->Execute(&running);
  ASSERT_TRUE(log_.AwaitRunning(1));
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 3; ++i) {
    stoppers.emplace_back([this] {
      policy_->Shutdown();
      korb::MutexLock lock(&log_.mu);
      EXPECT_EQ(log_.finished, 1) << "Shutdown() returned while a call ran";
    });
  }
  gate.Notify();
  for (std::thread& stopper : stoppers) stopper.join();
  EXPECT_EQ(policy_->Stats().threads, 0);
}

// A call bound before its object's deactivation but executed after it still
// runs (the contract: no call is lost).
TEST_P(EveryPolicy, CallRacingWithDeactivationStillRuns) {
  policy_->OnObjectActivated(&object_);
  policy_->OnObjectDeactivated(&object_);
  ScriptedCall late(&log_, 0, {.object = &object_});
  policy_->Execute(&late);
  ASSERT_TRUE(log_.AwaitFinished(1));
  EXPECT_EQ(log_.Ran(), std::vector<int>{0});
}

// Destroying a policy with calls in flight shuts it down first.
TEST_P(EveryPolicy, DestructorShutsDown) {
  korb::Notification gate;
  ScriptedCall running(&log_, 0, {.object = &object_, .gate = &gate});
  ScriptedCall waiting(&log_, 1, {.object = &object_});
  policy_->Execute(&running);
  ASSERT_TRUE(log_.AwaitRunning(1));
  policy_->Execute(&waiting);
  std::thread releaser([&] {
    EXPECT_TRUE(log_.AwaitRejected(1));
    gate.Notify();
  });
  policy_.reset();
  releaser.join();
  korb::MutexLock lock(&log_.mu);
  EXPECT_EQ(log_.finished, 2);
  EXPECT_EQ(log_.ran, std::vector<int>{0});
}

// A call whose operation shuts its own policy down, as a servant might.
class ShutdownFromInsideCall final : public PendingCall {
 public:
  explicit ShutdownFromInsideCall(ThreadingPolicy* policy) : policy_(policy) {}
  void Run() override { policy_->Shutdown(); }
  void Reject(const absl::Status& status) override {}
  int32_t priority() const override { return 0; }
  const void* object() const override { return this; }
  absl::string_view connection() const override { return "test"; }

 private:
  ThreadingPolicy* const policy_;
};

// Shutdown() from one of the policy's own threads would wait for itself: it
// aborts with a message saying so instead of hanging.
TEST_P(EveryPolicy, ShutdownFromOwnThreadAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        ShutdownFromInsideCall call(policy_.get());
        policy_->Execute(&call);
        absl::SleepFor(korb::testing::kTestDeadline);
      },
      "Shutdown\\(\\) called from one of the policy's own threads");
}

// Growing and serialized: the waiting call is parked behind its object's
// running call, so the pool has no reason to grow.
ThreadingOptions GrowingSerializedPool() {
  ThreadingOptions options = ThreadingOptions::GrowingPool(1, 3);
  options.serialize_per_object = true;
  options.idle_timeout = absl::Milliseconds(50);
  return options;
}

INSTANTIATE_TEST_SUITE_P(
    Policies, EveryPolicy,
    ::testing::Values(PolicyCase{"SharedPool", ThreadingOptions::SharedPool(1)},
                      PolicyCase{"GrowingSerializedPool", GrowingSerializedPool()},
                      PolicyCase{"SerializedPool", ThreadingOptions::SerializedPool(3)},
                      PolicyCase{"ThreadPerObject", ThreadingOptions::ThreadPerObject()},
                      PolicyCase{"ThreadPerRequest", ThreadingOptions::ThreadPerRequest(1)},
                      PolicyCase{"ThreadPerConnection", ThreadingOptions::ThreadPerConnection()}),
    [](const ::testing::TestParamInfo<PolicyCase>& info) { return info.param.name; });

}  // namespace
}  // namespace korb
