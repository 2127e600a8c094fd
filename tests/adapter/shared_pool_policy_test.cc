// The shared pool on its own, with scripted PendingCalls: bounded
// concurrency, priority lanes, queue bound, and shutdown.
#include "adapter/shared_pool_policy.h"

#include <atomic>
#include <memory>
#include <vector>

#include "common/sync.h"
#include "absl/time/clock.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::StatusIs;

// Shared record of what the pool did with a batch of calls.
struct Log {
  korb::Mutex mu;
  std::vector<int> ran ABSL_GUARDED_BY(mu);
  std::vector<absl::Status> rejected ABSL_GUARDED_BY(mu);
  int running ABSL_GUARDED_BY(mu) = 0;
  int max_running ABSL_GUARDED_BY(mu) = 0;
  int finished ABSL_GUARDED_BY(mu) = 0;

  // Blocks until exactly `n` calls are running (30 s bound).
  bool AwaitRunning(int n) {
    korb::MutexLock lock(&mu);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return running == n; };
    return mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(30));
  }

  // Blocks until `n` calls ran or were rejected (30 s bound).
  bool AwaitFinished(int n) {
    korb::MutexLock lock(&mu);
    auto done = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return finished >= n; };
    return mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(30));
  }
};

class ScriptedCall : public PendingCall {
 public:
  ScriptedCall(Log* log, int tag, int32_t priority, korb::Notification* gate = nullptr)
      : log_(log), tag_(tag), priority_(priority), gate_(gate) {}

  void Run() override {
    {
      korb::MutexLock lock(&log_->mu);
      log_->ran.push_back(tag_);
      log_->max_running = std::max(log_->max_running, ++log_->running);
    }
    if (gate_ != nullptr) gate_->WaitForNotificationWithTimeout(absl::Seconds(30));
    korb::MutexLock lock(&log_->mu);
    --log_->running;
    ++log_->finished;
  }
  void Reject(const absl::Status& status) override {
    korb::MutexLock lock(&log_->mu);
    log_->rejected.push_back(status);
    ++log_->finished;
  }
  int32_t priority() const override { return priority_; }
  const void* object() const override { return this; }
  absl::string_view connection() const override { return "test"; }

 private:
  Log* log_;
  int tag_;
  int32_t priority_;
  korb::Notification* gate_;
};

// A pool of N workers never runs more than N calls at once, and runs them all.
TEST(SharedPoolPolicy, PoolSizeBoundsConcurrency) {
  SharedPoolPolicy pool(2, 100);
  Log log;
  korb::Notification gate;
  std::vector<std::unique_ptr<ScriptedCall>> calls;
  for (int i = 0; i < 6; ++i) {
    calls.push_back(std::make_unique<ScriptedCall>(&log, i, 0, &gate));
    pool.Execute(calls.back().get());
  }
  ASSERT_TRUE(log.AwaitRunning(2));
  EXPECT_EQ(pool.queued(), 4u);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.max_running, 2);
  EXPECT_EQ(log.ran.size(), 6u);
}

// Queued calls leave highest priority first, FIFO within a priority.
TEST(SharedPoolPolicy, HigherPriorityOvertakesQueuedCalls) {
  SharedPoolPolicy pool(1, 100);
  Log log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, 0, &gate);
  pool.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall low1(&log, 1, 0), low2(&log, 2, 0), high(&log, 3, 10), mid(&log, 4, 5),
      negative(&log, 5, -1);
  for (ScriptedCall* call : {&low1, &negative, &low2, &high, &mid}) pool.Execute(call);
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(6));
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, (std::vector<int>{0, 3, 4, 1, 2, 5}));
}

// Beyond max_queued waiting calls, new calls are rejected as transient
// RESOURCE_EXHAUSTED.
TEST(SharedPoolPolicy, FullQueueRejects) {
  SharedPoolPolicy pool(1, 2);
  Log log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, 0, &gate);
  pool.Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall a(&log, 1, 0), b(&log, 2, 0), c(&log, 3, 0);
  pool.Execute(&a);
  pool.Execute(&b);
  pool.Execute(&c);
  {
    korb::MutexLock lock(&log.mu);
    ASSERT_EQ(log.rejected.size(), 1u);
    EXPECT_THAT(log.rejected[0], StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(ErrorKindOf(log.rejected[0]), ErrorKind::kTransient);
  }
  gate.Notify();
  ASSERT_TRUE(log.AwaitFinished(4));
}

// Shutdown rejects queued calls with UNAVAILABLE, waits for the running one,
// refuses later calls, and is idempotent.
TEST(SharedPoolPolicy, ShutdownRejectsQueuedAndLaterCalls) {
  auto pool = std::make_unique<SharedPoolPolicy>(1, 100);
  Log log;
  korb::Notification gate;
  ScriptedCall blocker(&log, 0, 0, &gate);
  pool->Execute(&blocker);
  ASSERT_TRUE(log.AwaitRunning(1));
  ScriptedCall queued(&log, 1, 0);
  pool->Execute(&queued);
  std::thread releaser([&gate] {
    absl::SleepFor(absl::Milliseconds(50));
    gate.Notify();
  });
  pool->Shutdown();
  releaser.join();
  ScriptedCall late(&log, 2, 0);
  pool->Execute(&late);
  pool->Shutdown();
  korb::MutexLock lock(&log.mu);
  EXPECT_EQ(log.ran, std::vector<int>{0});
  ASSERT_EQ(log.rejected.size(), 2u);
  EXPECT_THAT(log.rejected[0], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(log.rejected[1], StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log.finished, 3);
}

}  // namespace
}  // namespace korb
