// Adapter states over the in-memory transport (no gRPC, so under TSan too): holding queues calls (bounded) until
// Resume(), discarding refuses them as transient, transitions are
// idempotent, and shutdown drains calls in flight under load.
#include <atomic>
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

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;

class AdapterStateTest : public testing::InMemoryFixture {
 protected:
  // Waits until the adapter holds `n` calls; false after 30 s.
  bool AwaitHeld(size_t n) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (adapter_->Metrics().held_calls != n) {
      if (absl::Now() > deadline) return false;
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }
};

// Calls to a holding adapter wait, none runs, and all run after Resume().
TEST_F(AdapterStateTest, HoldingQueuesCallsUntilResume) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto servant = std::make_shared<EchoImpl>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  ASSERT_THAT(adapter_->Hold(), IsOk());
  EXPECT_EQ(adapter_->state(), AdapterState::kHolding);
  std::vector<Future<korbtest::EchoReply>> calls;
  for (int i = 0; i < 5; ++i) calls.push_back(stub.EchoAsync(Text(std::to_string(i))));
  ASSERT_TRUE(AwaitHeld(5));
  EXPECT_EQ(servant->calls.load(), 0);
  for (const auto& call : calls) EXPECT_FALSE(call.Ready());
  ASSERT_THAT(adapter_->Resume(), IsOk());
  WaitAll(calls);
  for (const auto& call : calls) EXPECT_THAT(call.Get(), IsOk());
  EXPECT_EQ(servant->calls.load(), 5);
  EXPECT_EQ(adapter_->Metrics().held_calls, 0u);
}

// Beyond max_held_calls a call is refused at once as transient
// RESOURCE_EXHAUSTED; the held ones still run.
TEST_F(AdapterStateTest, HoldingQueueIsBounded) {
  StartServer({.threading = ThreadingOptions::SharedPool(2), .max_held_calls = 2});
  testing::InMemoryEchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  ASSERT_THAT(adapter_->Hold(), IsOk());
  Future<korbtest::EchoReply> a = stub.EchoAsync(Text("a"));
  Future<korbtest::EchoReply> b = stub.EchoAsync(Text("b"));
  ASSERT_TRUE(AwaitHeld(2));
  absl::StatusOr<korbtest::EchoReply> third = stub.Echo(Text("c"));
  EXPECT_THAT(third, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(ErrorKindOf(third.status()), ErrorKind::kTransient);
  ASSERT_THAT(adapter_->Resume(), IsOk());
  EXPECT_THAT(a.Get(), IsOk());
  EXPECT_THAT(b.Get(), IsOk());
}

// Discarding refuses new calls and the calls held so far as transient
// UNAVAILABLE; Resume() serves again.
TEST_F(AdapterStateTest, DiscardingRefusesAsTransient) {
  StartServer({});
  auto servant = std::make_shared<EchoImpl>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  ASSERT_THAT(adapter_->Hold(), IsOk());
  Future<korbtest::EchoReply> held = stub.EchoAsync(Text("held"));
  ASSERT_TRUE(AwaitHeld(1));
  ASSERT_THAT(adapter_->Discard(), IsOk());
  EXPECT_THAT(held.Get(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(held.Get().status()), ErrorKind::kTransient);
  absl::StatusOr<korbtest::EchoReply> refused = stub.Echo(Text("new"));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("discarding")));
  EXPECT_EQ(ErrorKindOf(refused.status()), ErrorKind::kTransient);
  EXPECT_EQ(servant->calls.load(), 0);
  ASSERT_THAT(adapter_->Resume(), IsOk());
  EXPECT_THAT(stub.Echo(Text("again")), IsOk());
}

// Every transition may be repeated; after Shutdown() the adapter stays
// inactive and refuses the others.
TEST_F(AdapterStateTest, TransitionsAreIdempotent) {
  StartServer({});
  testing::InMemoryEchoStub stub = ActivateEcho("o", std::make_shared<EchoImpl>());
  for (int i = 0; i < 2; ++i) ASSERT_THAT(adapter_->Hold(), IsOk());
  for (int i = 0; i < 2; ++i) ASSERT_THAT(adapter_->Discard(), IsOk());
  ASSERT_THAT(adapter_->Hold(), IsOk());
  for (int i = 0; i < 2; ++i) ASSERT_THAT(adapter_->Resume(), IsOk());
  EXPECT_EQ(adapter_->state(), AdapterState::kActive);
  EXPECT_THAT(stub.Echo(Text("x")), IsOk());
  ASSERT_THAT(adapter_->Shutdown(), IsOk());
  ASSERT_THAT(adapter_->Shutdown(), IsOk());
  EXPECT_EQ(adapter_->state(), AdapterState::kInactive);
  EXPECT_THAT(adapter_->Hold(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(adapter_->Discard(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(adapter_->Resume(), StatusIs(absl::StatusCode::kFailedPrecondition));
  absl::StatusOr<korbtest::EchoReply> refused = stub.Echo(Text("late"));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(refused.status()), ErrorKind::kTransient);
  EXPECT_EQ(adapter_->active_objects(), 0u);
}

// Under a steady load, state changes and a final shutdown lose no call: every
// call is answered, either served or refused as transient.
TEST_F(AdapterStateTest, TransitionsUnderLoadLoseNoCall) {
  StartServer({.threading = ThreadingOptions::SharedPool(4)});
  auto servant = std::make_shared<EchoImpl>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, transient{0}, other{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      korbtest::EchoRequest request = Text("load");
      request.set_delay_ms(1);
      CallOptions options;
      options.timeout = absl::Seconds(60);
      while (!stop.load()) {
        absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(request, options);
        if (reply.ok()) {
          ++ok;
        } else if (ErrorKindOf(reply.status()) == ErrorKind::kTransient) {
          ++transient;
        } else {
          ++other;
          ADD_FAILURE() << reply.status();
        }
      }
    });
  }
  auto await_progress = [&](std::atomic<int>& counter) {
    int start = counter.load();
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (counter.load() < start + 5 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    return counter.load() >= start + 5;
  };
  ASSERT_TRUE(await_progress(ok));
  ASSERT_THAT(adapter_->Hold(), IsOk());
  ASSERT_TRUE(AwaitHeld(4));  // every client is waiting
  ASSERT_THAT(adapter_->Resume(), IsOk());
  ASSERT_TRUE(await_progress(ok));
  ASSERT_THAT(adapter_->Discard(), IsOk());
  ASSERT_TRUE(await_progress(transient));
  ASSERT_THAT(adapter_->Resume(), IsOk());
  ASSERT_TRUE(await_progress(ok));
  ASSERT_THAT(adapter_->Shutdown(absl::Seconds(30)), IsOk());
  ASSERT_TRUE(await_progress(transient));
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(other.load(), 0);
  // Every call the servant ran was answered OK (and none twice).
  EXPECT_EQ(servant->calls.load(), ok.load());
}

// A call still running when the grace period ends: Shutdown() waits for it
// all the same (the servant is never pulled from under it), the call
// succeeds, and Shutdown() reports DEADLINE_EXCEEDED. A zero grace makes
// "still running" certain without depending on timing.
TEST_F(AdapterStateTest, ShutdownPastGraceReportsDeadlineExceeded) {
  StartServer({.threading = ThreadingOptions::SharedPool(2)});
  auto servant = std::make_shared<testing::GatedEcho>();
  testing::InMemoryEchoStub stub = ActivateEcho("o", servant);
  Future<korbtest::EchoReply> call = stub.EchoAsync(Text("block"));
  ASSERT_TRUE(servant->AwaitRunning(1));
  // Shutdown() releases its active objects only after it has given up
  // waiting for the grace period, so the call is sure to be still running
  // when the drain decision is made (waiting for kInactive was not: the
  // state changes before the grace period starts).
  std::thread releaser([this, servant] {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (adapter_->Metrics().active_objects != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    servant->Release();
  });
  EXPECT_THAT(adapter_->Shutdown(absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  releaser.join();
  ASSERT_TRUE(call.WaitFor(absl::Seconds(30)));
  EXPECT_THAT(call.Get(), IsOk());
  EXPECT_THAT(adapter_->Shutdown(), StatusIs(absl::StatusCode::kDeadlineExceeded))
      << "a repeated Shutdown() reports the first one's outcome";
}

// A restarting server never denies an object it is about to serve: during
// the start-up window a call for an adapter not created yet is transient,
// and a new adapter holds calls until the application calls Resume().
TEST(AdapterStartup, CallsWaitUntilTheApplicationIsReady) {
  testing::InMemoryClient client;  // destroyed after the server
  std::unique_ptr<ObjectServer> server = testing::StartInMemoryServer(absl::Seconds(60));
  client.set_server(server.get());
  const Ref ref("korbtest.Echo", server->endpoints(), "bank", "a1");
  testing::InMemoryEchoStub stub(client, ref);
  korbtest::EchoRequest request;
  request.set_text("held");
  absl::StatusOr<korbtest::EchoReply> early = stub.Echo(request);
  EXPECT_THAT(early, StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(early.status()), ErrorKind::kTransient);

  // Persistent: its references (as `ref`) survive restarts.
  absl::StatusOr<ObjectAdapter*> adapter =
      server->CreateAdapter("bank", {.lifespan = Lifespan::kPersistent});
  ASSERT_THAT(adapter, IsOk());
  EXPECT_EQ((*adapter)->state(), AdapterState::kHolding);
  Future<korbtest::EchoReply> held = stub.EchoAsync(request);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((*adapter)->Metrics().held_calls != 1) {
    ASSERT_LT(absl::Now(), deadline) << "the call was not held";
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_THAT((*adapter)->Activate("a1", std::make_shared<EchoImpl>()), IsOk());
  EXPECT_FALSE(held.Ready()) << "a call ran before Resume()";
  ASSERT_THAT((*adapter)->Resume(), IsOk());
  ASSERT_TRUE(held.WaitFor(absl::Seconds(30)));
  ASSERT_THAT(held.Get(), IsOk());
  EXPECT_EQ(held.Get()->text(), "held");
}

// After the start-up window an unknown adapter does not exist.
TEST(AdapterStartup, UnknownAdapterAfterTheWindowDoesNotExist) {
  testing::InMemoryClient client;
  std::unique_ptr<ObjectServer> server = testing::StartInMemoryServer(absl::ZeroDuration());
  client.set_server(server.get());
  testing::InMemoryEchoStub stub(client, Ref("korbtest.Echo", server->endpoints(), "bank", "a1"));
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(korbtest::EchoRequest());
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kObjectNotExist);
}

}  // namespace
}  // namespace korb
