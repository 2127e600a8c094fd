// Generated stubs over the client runtime against an in-process server,
// over gRPC and collocated (transports.h): synchronous, callback and future
// calls, many calls in flight from one thread, per-call options (metadata,
// deadline, priority, cancellation), stub construction from good and bad
// references, and turning collocation off per Client and per call.
#include "client/stub_base.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/sync.h"
#include "absl/time/clock.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/client/transports.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

korbtest::EchoRequest Text(const std::string& text, int delay_ms = 0) {
  korbtest::EchoRequest request;
  request.set_text(text);
  request.set_delay_ms(delay_ms);
  return request;
}

class StubTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    absl::StatusOr<ObjectAdapter*> adapter =
        server_->CreateAdapter("t", {.threading = ThreadingOptions::SharedPool(4)});
    ASSERT_THAT(adapter, IsOk());
    servant_ = std::make_shared<EchoImpl>();
    absl::StatusOr<Ref> ref = (*adapter)->Activate("echo", servant_);
    ASSERT_THAT(ref, IsOk());
    ASSERT_THAT((*adapter)->Resume(), IsOk());
    ref_ = *ref;
  }

  std::unique_ptr<ObjectServer> server_;
  std::shared_ptr<EchoImpl> servant_;
  Ref ref_;
  Client client_{testing::Transport(GetParam())};
};

TEST_P(StubTest, SynchronousCall) {
  korbtest::EchoStub stub(client_, ref_);
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("sync"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "sync");
}

// The callback runs exactly once with the reply.
TEST_P(StubTest, CallbackCall) {
  korbtest::EchoStub stub(client_, ref_);
  korb::Notification done;
  std::atomic<int> callbacks{0};
  std::string text;
  stub.EchoAsync(Text("callback"), [&](absl::StatusOr<korbtest::EchoReply> reply) {
    ++callbacks;
    text = reply.ok() ? reply->text() : reply.status().ToString();
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(text, "callback");
  EXPECT_EQ(callbacks.load(), 1);
}

// One thread issues many calls before waiting for any, then waits for all.
TEST_P(StubTest, ManyCallsInFlightFromOneThread) {
  korbtest::EchoStub stub(client_, ref_);
  std::vector<Future<korbtest::EchoReply>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(stub.EchoAsync(Text(std::to_string(i))));
  }
  WaitAll(futures);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(futures[i].Ready());
    ASSERT_THAT(futures[i].Get(), IsOk());
    EXPECT_EQ(futures[i].Get()->text(), std::to_string(i));
  }
}

// Async calls overlap: two calls issued together are both inside the
// servant at once (each blocks until both are there and the test releases
// them), before either returns.
TEST_P(StubTest, AsyncCallsOverlap) {
  auto gated = std::make_shared<testing::GatedEcho>();
  absl::StatusOr<Ref> ref = server_->FindAdapter("t")->Activate("gated", gated);
  ASSERT_THAT(ref, IsOk());
  korbtest::EchoStub stub(client_, *ref);
  Future<korbtest::EchoReply> a = stub.EchoAsync(Text("block-a", 0));
  Future<korbtest::EchoReply> b = stub.EchoAsync(Text("block-b", 0));
  EXPECT_TRUE(gated->AwaitRunning(2)) << "the two async calls did not overlap";
  EXPECT_FALSE(a.Ready() || b.Ready()) << "a call returned while the servant still held it";
  gated->Release();
  WaitAll(a, b);
  EXPECT_THAT(a.Get(), IsOk());
  EXPECT_THAT(b.Get(), IsOk());
}

TEST_P(StubTest, MetadataReachesServant) {
  korbtest::EchoStub stub(client_, ref_);
  CallOptions options;
  options.metadata.emplace_back("x-test", "v1");
  options.priority = 7;
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("m"), options);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->metadata(), "v1");
}

TEST_P(StubTest, ReservedMetadataIsRejected) {
  korbtest::EchoStub stub(client_, ref_);
  CallOptions options;
  options.metadata.emplace_back("korb-object", "t/other");
  EXPECT_THAT(stub.Echo(Text("m"), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reserved")));
}

// A call that outlives its timeout ends with DEADLINE_EXCEEDED.
TEST_P(StubTest, TimeoutEndsCall) {
  korbtest::EchoStub stub(client_, ref_);
  CallOptions options;
  options.timeout = absl::Milliseconds(50);
  EXPECT_THAT(stub.Echo(Text("slow", 3000), options),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
}

// The client-wide default timeout applies when a call sets none.
TEST_P(StubTest, ClientDefaultTimeout) {
  Client client(testing::Transport(GetParam(), {.default_timeout = absl::Milliseconds(50)}));
  korbtest::EchoStub stub(client, ref_);
  EXPECT_THAT(stub.Echo(Text("slow", 3000)), StatusIs(absl::StatusCode::kDeadlineExceeded));
}

// Cancelling a token ends calls in flight and refuses calls not yet started.
TEST_P(StubTest, CancellationToken) {
  korbtest::EchoStub stub(client_, ref_);
  CancellationToken token;
  CallOptions options;
  options.cancellation = &token;
  Future<korbtest::EchoReply> call = stub.EchoAsync(Text("slow", 5000), options);
  ASSERT_TRUE(servant_->AwaitRunning(1));
  token.Cancel();
  ASSERT_TRUE(call.WaitFor(absl::Seconds(30)));
  EXPECT_THAT(call.Get(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(token.cancelled());
  EXPECT_THAT(stub.Echo(Text("after"), options), StatusIs(absl::StatusCode::kCancelled));
}

TEST_P(StubTest, MakeStubChecksReference) {
  EXPECT_THAT(MakeStub<korbtest::EchoStub>(client_, ref_.ToString()), IsOk());
  EXPECT_THAT(MakeStub<korbtest::EchoStub>(client_, "http://x"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(MakeStub<korbtest::EchoFactoryStub>(client_, ref_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("korbtest.Echo")));
  ObjectRef empty;
  absl::StatusOr<korbtest::EchoStub> from_empty = MakeStub<korbtest::EchoStub>(client_, empty);
  EXPECT_THAT(from_empty, StatusIs(absl::StatusCode::kInvalidArgument));
  // A stub built directly from a bad reference fails every call the same way.
  korbtest::EchoStub bad(client_, empty);
  EXPECT_THAT(bad.korb_status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(bad.Echo(Text("x")), StatusIs(absl::StatusCode::kInvalidArgument));
  Future<korbtest::EchoReply> f = bad.EchoAsync(Text("x"));
  EXPECT_THAT(f.Get(), StatusIs(absl::StatusCode::kInvalidArgument));
}

// An untyped reference is accepted by any stub.
TEST_P(StubTest, UntypedReferenceIsAccepted) {
  Ref untyped = ref_;
  untyped.set_type("");
  absl::StatusOr<korbtest::EchoStub> stub = MakeStub<korbtest::EchoStub>(client_, untyped);
  ASSERT_THAT(stub, IsOk());
  EXPECT_THAT(stub->Echo(Text("u")), IsOk());
}

// Stubs to one endpoint share one channel.
TEST_P(StubTest, ChannelCachePerEndpoint) {
  EXPECT_EQ(client_.Channel(ref_.endpoints().front()).get(),
            client_.Channel(ref_.endpoints().front()).get());
  EXPECT_NE(client_.Channel(ref_.endpoints().front()).get(),
            client_.Channel(HostPort{"127.0.0.1", 1}).get());
}

// A server that is gone gives UNAVAILABLE, not a hang.
TEST_P(StubTest, DeadServerIsUnavailable) {
  Ref ref = ref_;
  server_->Shutdown();
  korbtest::EchoStub stub(client_, ref);
  CallOptions options;
  options.timeout = absl::Seconds(30);
  EXPECT_THAT(stub.Echo(Text("x"), options), StatusIs(absl::StatusCode::kUnavailable));
}

// ~Client waits for asynchronous calls still in flight.
TEST_P(StubTest, ClientDestructorWaitsForAsyncCalls) {
  std::atomic<bool> called{false};
  {
    Client client(testing::Transport(GetParam()));
    korbtest::EchoStub stub(client, ref_);
    stub.EchoAsync(Text("late", 200),
                   [&called](absl::StatusOr<korbtest::EchoReply>) { called = true; });
  }
  EXPECT_TRUE(called.load());
}

// Calls take the transport ClientOptions::collocated_calls says, and a call
// can leave the collocated path with CallOptions::collocated = false; the
// servant sees the difference in its peer.
TEST_P(StubTest, CollocationCanBeTurnedOffPerClientAndPerCall) {
  absl::StatusOr<Ref> ref =
      server_->FindAdapter("t")->Activate("where", std::make_shared<testing::WhereEcho>());
  ASSERT_THAT(ref, IsOk());
  korbtest::EchoStub stub(client_, *ref);
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  if (GetParam()) {
    EXPECT_EQ(reply->object_id(), "collocated");
  } else {
    EXPECT_THAT(reply->object_id(), ::testing::StartsWith("ipv4:"));
  }
  absl::StatusOr<korbtest::EchoReply> remote = stub.Echo(Text("x"), {.collocated = false});
  ASSERT_THAT(remote, IsOk());
  EXPECT_THAT(remote->object_id(), ::testing::StartsWith("ipv4:"));
}

// A reference may name this process's server by another name than the one
// it advertises: localhost for 127.0.0.1. Both are collocated.
TEST_P(StubTest, LoopbackAliasesAreCollocated) {
  absl::StatusOr<Ref> ref =
      server_->FindAdapter("t")->Activate("where", std::make_shared<testing::WhereEcho>());
  ASSERT_THAT(ref, IsOk());
  ASSERT_EQ(ref->endpoints().front().host, "127.0.0.1");
  Ref by_name(ref->type(), {HostPort{"localhost", ref->endpoints().front().port}}, ref->adapter(),
              ref->id());
  absl::StatusOr<korbtest::EchoReply> reply = korbtest::EchoStub(client_, by_name).Echo(Text("x"));
  ASSERT_THAT(reply, IsOk());
  if (GetParam()) {
    EXPECT_EQ(reply->object_id(), "collocated");
  }
}

// Channels and endpoint records nothing uses any more are kept only up to
// max_idle_channels: stubs to ever new endpoints do not grow the Client,
// and what a stub in use holds stays.
TEST_P(StubTest, IdleChannelsAreBounded) {
  Client client(testing::Transport(GetParam(), {.max_idle_channels = 3}));
  korbtest::EchoStub kept(client, ref_);
  ASSERT_THAT(kept.Echo(Text("x")), IsOk());
  for (int port = 1; port <= 20; ++port) {
    Ref elsewhere(ref_.type(), {HostPort{"127.0.0.1", static_cast<uint16_t>(port)}},
                  ref_.adapter(), ref_.id());
    korbtest::EchoStub dropped(client, elsewhere);
  }
  EXPECT_LE(client.channel_count(), 4u);  // three idle and the one `kept` holds
  EXPECT_LE(client.health_count(), 4u);
  EXPECT_THAT(kept.Echo(Text("still")), IsOk());
}

INSTANTIATE_TEST_SUITE_P(Transports, StubTest, ::testing::Bool(), testing::TransportName);

}  // namespace
}  // namespace korb
