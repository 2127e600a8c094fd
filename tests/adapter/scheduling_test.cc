// How the adapter schedules calls, over the in-memory transport (no gRPC, so under TSan too): priority lanes overtaking
// queued calls, calls cancelled or expired while queued never reaching the
// servant, OnCancel() interrupting a running operation, and per-object
// threading overrides.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "adapter/object_adapter.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::GatedEcho;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;

class SchedulingTest : public testing::InMemoryFixture {};

// With the only worker busy, a high-priority call overtakes the queued
// low-priority ones; equal priorities keep arrival order.
TEST_F(SchedulingTest, HighPriorityOvertakesQueuedCalls) {
  StartServer({.threading = ThreadingOptions::SharedPool(1)});
  auto servant = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  Future<korbtest::EchoReply> blocker = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(servant->AwaitRunning(1));
  CallOptions low, high;
  low.priority = 0;
  high.priority = 10;
  Future<korbtest::EchoReply> l1 = stub.EchoAsync(Text("low1"), low);
  ASSERT_TRUE(AwaitQueued(1));
  Future<korbtest::EchoReply> l2 = stub.EchoAsync(Text("low2"), low);
  ASSERT_TRUE(AwaitQueued(2));
  Future<korbtest::EchoReply> h = stub.EchoAsync(Text("high"), high);
  ASSERT_TRUE(AwaitQueued(3));
  servant->Release();
  WaitAll(blocker, l1, l2, h);
  for (const auto* f : {&blocker, &l1, &l2, &h}) EXPECT_THAT(f->Get(), IsOk());
  EXPECT_THAT(servant->log(), ElementsAre("block", "high", "low1", "low2"));
}

// The method's IDL priority applies when the caller sets none
// (korbtest.Echo.Ping has priority 3).
TEST_F(SchedulingTest, MethodPriorityIsTheDefault) {
  StartServer({.threading = ThreadingOptions::SharedPool(1)});
  auto servant = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  Future<korbtest::EchoReply> blocker = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(servant->AwaitRunning(1));
  Future<korbtest::EchoReply> echo = stub.EchoAsync(Text("echo"));
  ASSERT_TRUE(AwaitQueued(1));
  Future<Empty> ping = stub.PingAsync(Empty());
  ASSERT_TRUE(AwaitQueued(2));
  std::vector<std::pair<int32_t, size_t>> lanes = adapter_->Metrics().policy.queued_by_priority;
  EXPECT_THAT(lanes, ElementsAre(std::pair<int32_t, size_t>{3, 1},
                                 std::pair<int32_t, size_t>{0, 1}));
  servant->Release();
  WaitAll(blocker, echo, ping);
  EXPECT_THAT(ping.Get(), StatusIs(absl::StatusCode::kUnimplemented));  // GatedEcho lacks Ping
}

// A call cancelled by its caller while it waits in the queue is answered
// CANCELLED and never runs the servant.
TEST_F(SchedulingTest, CallCancelledWhileQueuedIsDropped) {
  StartServer({.threading = ThreadingOptions::SharedPool(1)});
  auto servant = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  Future<korbtest::EchoReply> blocker = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(servant->AwaitRunning(1));
  CancellationToken token;
  CallOptions cancellable;
  cancellable.cancellation = &token;
  Future<korbtest::EchoReply> doomed = stub.EchoAsync(Text("doomed"), cancellable);
  ASSERT_TRUE(AwaitQueued(1));
  token.Cancel();
  EXPECT_THAT(doomed.Get(), StatusIs(absl::StatusCode::kCancelled));
  // The server learns of the cancellation asynchronously (RST_STREAM).
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (adapter_->Metrics().cancelled == 0) {
    ASSERT_LT(absl::Now(), deadline) << "the server never saw the cancellation";
    absl::SleepFor(absl::Milliseconds(1));
  }
  servant->Release();
  // FIFO behind the dropped call: when this one is answered, the dropped
  // call has been taken from the queue.
  EXPECT_THAT(stub.Echo(Text("after")), IsOk());
  EXPECT_THAT(blocker.Get(), IsOk());
  EXPECT_THAT(servant->log(), ElementsAre("block", "after"));
}

// A call whose deadline passes while it waits is answered DEADLINE_EXCEEDED
// and never runs the servant.
TEST_F(SchedulingTest, CallExpiredWhileQueuedIsDropped) {
  StartServer({.threading = ThreadingOptions::SharedPool(1)});
  auto servant = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  Future<korbtest::EchoReply> blocker = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(servant->AwaitRunning(1));
  CallOptions short_deadline;
  short_deadline.timeout = absl::Milliseconds(50);
  Future<korbtest::EchoReply> expired = stub.EchoAsync(Text("expired"), short_deadline);
  EXPECT_THAT(expired.Get(), StatusIs(absl::StatusCode::kDeadlineExceeded));
  // The server's copy of the deadline runs out a little after the client's
  // (it starts when the call arrives): wait until it has.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (adapter_->Metrics().cancelled == 0) {
    ASSERT_LT(absl::Now(), deadline) << "the server never saw the deadline pass";
    absl::SleepFor(absl::Milliseconds(1));
  }
  servant->Release();
  EXPECT_THAT(stub.Echo(Text("after")), IsOk());
  EXPECT_THAT(servant->log(), ElementsAre("block", "after"));
}

// Cancelling a running call reaches the operation through OnCancel(), which
// interrupts its wait.
TEST_F(SchedulingTest, OnCancelInterruptsRunningOperation) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto servant = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  CancellationToken token;
  CallOptions cancellable;
  cancellable.cancellation = &token;
  Future<korbtest::EchoReply> call = stub.EchoAsync(Text("block"), cancellable);
  ASSERT_TRUE(servant->AwaitRunning(1));
  token.Cancel();
  EXPECT_THAT(call.Get(), StatusIs(absl::StatusCode::kCancelled));
  // The servant was interrupted, not released: it saw the cancellation.
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (servant->saw_cancel() == 0) {
    ASSERT_LT(absl::Now(), deadline) << "OnCancel never reached the servant";
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// An object activated with its own threading options runs under them: two
// calls to it run at once although the adapter's pool has one worker.
TEST_F(SchedulingTest, PerObjectThreadingOverride) {
  StartServer({.threading = ThreadingOptions::SharedPool(1)});
  auto wide = std::make_shared<GatedEcho>();
  testing::InMemoryEchoStub wide_stub =
      ActivateEcho("wide", wide, {.threading = ThreadingOptions::SharedPool(2)});
  Future<korbtest::EchoReply> a = wide_stub.EchoAsync(Text("block-a"));
  Future<korbtest::EchoReply> b = wide_stub.EchoAsync(Text("block-b"));
  ASSERT_TRUE(wide->AwaitRunning(2)) << "the override's two workers did not both run";
  EXPECT_EQ(adapter_->Metrics().policy.threads, 3);
  // The adapter's own worker is still free for other objects.
  testing::InMemoryEchoStub plain = ActivateEcho("plain", std::make_shared<GatedEcho>());
  EXPECT_THAT(plain.Echo(Text("plain")), IsOk());
  wide->Release();
  WaitAll(a, b);
  EXPECT_THAT(a.Get(), IsOk());
  EXPECT_THAT(b.Get(), IsOk());
}

// Deactivate() racing with Activate() of the same id never leaves a
// thread-per-object thread behind: the policy learns of an object before
// Deactivate() can find it.
TEST_F(SchedulingTest, ActivateDeactivateRaceLeavesNoThreads) {
  StartServer({.threading = ThreadingOptions::ThreadPerObject()});
  constexpr int kRounds = 2000;
  std::thread deactivator([this] {
    for (int i = 0; i < kRounds * 4; ++i) adapter_->Deactivate("racy").IgnoreError();
  });
  for (int i = 0; i < kRounds; ++i) {
    adapter_->Activate("racy", std::make_shared<GatedEcho>()).IgnoreError();
  }
  deactivator.join();
  adapter_->Deactivate("racy").IgnoreError();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (adapter_->Metrics().policy.threads != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(adapter_->Metrics().policy.threads, 0) << "an object thread outlived its object";
}

TEST_F(SchedulingTest, InvalidOverrideIsRejected) {
  StartServer({});
  ThreadingOptions bad = ThreadingOptions::SharedPool(-1);
  EXPECT_THAT(adapter_->Activate("x", std::make_shared<GatedEcho>(), {.threading = bad}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_FALSE(adapter_->IsActive("x"));
}

// A oneway operation (korbtest.Sink.Post) in memory, so under TSan too:
// the caller is answered while the operation is still blocked, and the
// operation runs on the policy's thread afterwards.
TEST_F(SchedulingTest, OnewayIsAnsweredBeforeTheOperationRuns) {
  class Sink : public korbtest::SinkServant {
   public:
    absl::StatusOr<Empty> Post(CallContext&, const korbtest::EchoRequest& request) override {
      started.Notify();
      release.WaitForNotificationWithTimeout(absl::Seconds(30));
      MutexLock lock(&mu);
      posted = request.text();
      return Empty();
    }
    Notification started, release;
    Mutex mu;
    std::string posted ABSL_GUARDED_BY(mu);
  };
  class SinkStub : public testing::InMemoryStubBase {
   public:
    using InMemoryStubBase::InMemoryStubBase;
    absl::StatusOr<Empty> Post(const korbtest::EchoRequest& request) const {
      return Invoke<Empty>("/korbtest.Sink/Post", request, {.timeout = absl::Seconds(30)});
    }
  };
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto sink = std::make_shared<Sink>();
  absl::StatusOr<Ref> ref = adapter_->Activate("sink", sink);
  ASSERT_THAT(ref, IsOk());
  ASSERT_THAT(SinkStub(client_, *ref).Post(Text("posted")), IsOk());
  ASSERT_TRUE(sink->started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  {
    MutexLock lock(&sink->mu);
    EXPECT_EQ(sink->posted, "") << "the caller waited for the operation";
  }
  sink->release.Notify();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    {
      MutexLock lock(&sink->mu);
      if (sink->posted == "posted") break;
    }
    ASSERT_LT(absl::Now(), deadline) << "the oneway operation's effect was not applied";
    absl::SleepFor(absl::Milliseconds(1));
  }
}

}  // namespace
}  // namespace korb
