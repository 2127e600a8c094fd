// Collocated calls without any network: Korb stubs calling object servers
// that listen nowhere (no gRPC server, registered for collocated calls
// only), so a call that succeeds went through the collocated transport, and
// no gRPC thread takes part — these tests run under ThreadSanitizer
// (make test-tsan). Each semantic of a remote call, collocated: the
// threading policy's threads and priorities, deadlines and cancellation
// reaching the servant, errors and their korb-error kinds, forwards and the
// location cache, retries with one request id and the reply cache, request
// metadata in CallContext, oneway operations, message limits, and a server
// shutting down under calls. The same semantics over gRPC and collocated
// against real servers: stub_test, retry_test, replica_test,
// replication_test and forward_test, parameterized.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "adapter/internal/collocated.h"
#include "adapter/internal/server_impl.h"
#include "adapter/object_server.h"
#include "adapter/testing/fault_injection.h"
#include "client/client.h"
#include "client/stub_base.h"
#include "common/sync.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbclient/register.korb.h"
#include "korbtest/testing.korb.h"
#include "tests/client/register_servant.h"
#include "tests/client/transports.h"
#include "tests/testing/fixture_helpers.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::EchoText;
using ::korb::testing::GatedEcho;
using ::korb::testing::IsOk;
using ::korb::testing::OpText;
using ::korb::testing::RegisterImpl;
using ::korb::testing::StatusIs;
using ::korb::testing::ThisThread;
using ::korb::testing::WhereEcho;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr absl::Duration kWait = absl::Seconds(30);

// Records the metadata it was called with.
class MetadataEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    korbtest::EchoReply reply;
    std::string seen;
    for (const char* key : {"x-test", "korb-priority", "korb-object"}) {
      std::optional<absl::string_view> value = context.Metadata(key);
      absl::StrAppend(&seen, key, "=", value.has_value() ? *value : "-", ";");
    }
    reply.set_text(seen);
    return reply;
  }
  absl::StatusOr<Empty> Ping(CallContext&, const Empty&) override { return Empty(); }
};

// Oneway posts: a post with text "block" waits for Release().
class Sink : public korbtest::SinkServant {
 public:
  absl::StatusOr<Empty> Post(CallContext&, const korbtest::EchoRequest& request) override {
    if (request.text() == "block") {
      running_.Notify();
      released_.WaitForNotificationWithTimeout(kWait);
    }
    MutexLock lock(&mu_);
    posted_ += request.text();
    return Empty();
  }
  absl::StatusOr<korbtest::EchoReply> Posted(CallContext&, const Empty&) override {
    korbtest::EchoReply reply;
    MutexLock lock(&mu_);
    reply.set_text(posted_);
    return reply;
  }
  bool AwaitRunning() const { return running_.WaitForNotificationWithTimeout(kWait); }
  void Release() { released_.Notify(); }

 private:
  Notification running_;
  Notification released_;
  Mutex mu_;
  std::string posted_ ABSL_GUARDED_BY(mu_);
};

// An object server without a gRPC server: only collocated calls reach it,
// under a name no other server of this process uses.
std::unique_ptr<ObjectServer> StartLocalOnlyServer() {
  static std::atomic<int> next_port{1};
  HostPort name{"collocated.test", static_cast<uint16_t>(next_port++)};
  std::unique_ptr<internal::ServerImpl> server = internal::ServerImpl::StartWithoutNetwork({name});
  internal::LocalServers::Register(server.get(), {name});
  return server;
}

class CollocatedTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = StartLocalOnlyServer(); }

  // Adapter `name` on server_ with `threading`, running.
  ObjectAdapter& Adapter(const std::string& name, ThreadingOptions threading,
                         AdapterOptions options = {}) {
    options.threading = threading;
    absl::StatusOr<ObjectAdapter*> adapter = server_->CreateAdapter(name, options);
    EXPECT_THAT(adapter, IsOk());
    EXPECT_THAT((*adapter)->Resume(), IsOk());
    return **adapter;
  }
  template <typename Stub>
  Stub Activate(ObjectAdapter& adapter, const std::string& id, std::shared_ptr<Servant> servant,
                Client& client) {
    absl::StatusOr<Ref> ref = adapter.Activate(id, std::move(servant));
    EXPECT_THAT(ref, IsOk());
    return Stub(client, ref.ok() ? *ref : Ref());
  }

  std::unique_ptr<ObjectServer> server_;
  Client client_;
};

// A server that listens nowhere answers: the call never left the process.
// The servant sees the collocated peer.
TEST_F(CollocatedTest, CallReachesAServerWithoutNetwork) {
  auto stub = Activate<korbtest::EchoStub>(Adapter("a", ThreadingOptions::SharedPool(2)), "w",
                                           std::make_shared<WhereEcho>(), client_);
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(EchoText("hi"), {.timeout = kWait});
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "hi");
  EXPECT_EQ(reply->object_id(), "collocated");
}

// Inline: the servant runs on the caller's thread. A pool: on one of its own.
TEST_F(CollocatedTest, ThreadingPolicyChoosesTheThread) {
  auto inline_stub = Activate<korbtest::EchoStub>(Adapter("i", ThreadingOptions::Inline()), "w",
                                                  std::make_shared<WhereEcho>(), client_);
  auto pool_stub = Activate<korbtest::EchoStub>(Adapter("p", ThreadingOptions::SharedPool(2)),
                                                "w", std::make_shared<WhereEcho>(), client_);
  absl::StatusOr<korbtest::EchoReply> inline_reply = inline_stub.Echo(EchoText("i"));
  absl::StatusOr<korbtest::EchoReply> pool_reply = pool_stub.Echo(EchoText("p"));
  ASSERT_THAT(inline_reply, IsOk());
  ASSERT_THAT(pool_reply, IsOk());
  EXPECT_EQ(inline_reply->metadata(), ThisThread());
  EXPECT_NE(pool_reply->metadata(), ThisThread());
}

// Clients share one "connection" per process, as gRPC shares one per server;
// with private_connections each Client has its own (thread-per-connection
// keys on it).
TEST_F(CollocatedTest, PrivateConnectionsAreSeparateConnections) {
  ObjectAdapter& adapter = Adapter("c", ThreadingOptions::ThreadPerConnection());
  ASSERT_THAT(adapter.Activate("w", std::make_shared<WhereEcho>()), IsOk());
  const Ref ref = adapter.CreateReference("w", "korbtest.Echo");
  auto peer_of = [&ref](Client& client) {
    absl::StatusOr<korbtest::EchoReply> reply = korbtest::EchoStub(client, ref).Echo(EchoText("x"));
    return reply.ok() ? reply->object_id() : reply.status().ToString();
  };
  Client shared1, shared2;
  Client private1({.private_connections = true}), private2({.private_connections = true});
  EXPECT_EQ(peer_of(shared1), peer_of(shared2));
  EXPECT_THAT(peer_of(private1), StartsWith("collocated:"));
  EXPECT_NE(peer_of(private1), peer_of(private2));
  EXPECT_NE(peer_of(private1), peer_of(shared1));
}

// korb-priority orders queued calls as over gRPC: with the pool's one thread
// busy, the later high-priority call runs before the earlier low one.
TEST_F(CollocatedTest, PrioritiesOrderQueuedCalls) {
  ObjectAdapter& adapter = Adapter("q", ThreadingOptions::SharedPool(1));
  auto gated = std::make_shared<GatedEcho>();
  auto stub = Activate<korbtest::EchoStub>(adapter, "g", gated, client_);
  Future<korbtest::EchoReply> blocker = stub.EchoAsync(EchoText("block"));
  ASSERT_TRUE(gated->AwaitRunning(1));
  Future<korbtest::EchoReply> low = stub.EchoAsync(EchoText("low"), {.priority = 1});
  ASSERT_TRUE(testing::AwaitQueuedCalls(adapter, 1));
  Future<korbtest::EchoReply> high = stub.EchoAsync(EchoText("high"), {.priority = 9});
  ASSERT_TRUE(testing::AwaitQueuedCalls(adapter, 2));
  gated->Release();
  ASSERT_TRUE(blocker.WaitFor(kWait) && low.WaitFor(kWait) && high.WaitFor(kWait));
  EXPECT_THAT(gated->log(), ElementsAre("block", "high", "low"));
}

// The deadline ends the call for the caller and reaches the servant, which
// sees the call cancelled (EchoImpl then stops early), on a pool and inline.
TEST_F(CollocatedTest, DeadlineEndsTheCallAndReachesTheServant) {
  for (ThreadingOptions threading : {ThreadingOptions::SharedPool(2), ThreadingOptions::Inline()}) {
    SCOPED_TRACE(threading.kind == ThreadingOptions::Kind::kInline ? "inline" : "pool");
    ObjectAdapter& adapter =
        Adapter(threading.kind == ThreadingOptions::Kind::kInline ? "di" : "dp", threading);
    auto echo = std::make_shared<EchoImpl>();
    auto stub = Activate<korbtest::EchoStub>(adapter, "e", echo, client_);
    korbtest::EchoRequest slow = EchoText("slow");
    slow.set_delay_ms(20000);
    EXPECT_THAT(stub.Echo(slow, {.timeout = absl::Milliseconds(50)}),
                StatusIs(absl::StatusCode::kDeadlineExceeded));
    Future<korbtest::EchoReply> async = stub.EchoAsync(slow, {.timeout = absl::Milliseconds(50)});
    ASSERT_TRUE(async.WaitFor(kWait));
    EXPECT_THAT(async.Get(), StatusIs(absl::StatusCode::kDeadlineExceeded));
    EXPECT_TRUE(testing::Eventually([&echo] { return echo->running.load() == 0; }))
        << "the servant never learnt of the deadline";
  }
}

// The caller's cancellation reaches the running operation (its OnCancel
// callback runs), for an asynchronous call and a blocking one.
TEST_F(CollocatedTest, CancellationReachesTheServant) {
  auto gated = std::make_shared<GatedEcho>();
  auto stub = Activate<korbtest::EchoStub>(Adapter("x", ThreadingOptions::SharedPool(2)), "g",
                                           gated, client_);
  CancellationToken token;
  Future<korbtest::EchoReply> call = stub.EchoAsync(EchoText("block"), {.cancellation = &token});
  ASSERT_TRUE(gated->AwaitRunning(1));
  token.Cancel();
  ASSERT_TRUE(call.WaitFor(kWait));
  EXPECT_THAT(call.Get(), StatusIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(testing::Eventually([&gated] { return gated->saw_cancel() == 1; }));

  CancellationToken blocking_token;
  std::thread canceller([&] {
    if (gated->AwaitRunning(1)) blocking_token.Cancel();
  });
  EXPECT_THAT(stub.Echo(EchoText("block"), {.cancellation = &blocking_token}),
              StatusIs(absl::StatusCode::kCancelled));
  canceller.join();
  EXPECT_TRUE(testing::Eventually([&gated] { return gated->saw_cancel() == 2; }));
  // A cancelled token refuses calls not yet started.
  EXPECT_THAT(stub.Echo(EchoText("after"), {.cancellation = &token}),
              StatusIs(absl::StatusCode::kCancelled));
}

// Errors come back with their code and korb-error kind: the pipeline's own
// and the servant's.
TEST_F(CollocatedTest, ErrorsKeepTheirCodeAndKind) {
  ObjectAdapter& adapter = Adapter("e", ThreadingOptions::SharedPool(2));
  auto stub = Activate<korbtest::EchoStub>(adapter, "e", std::make_shared<EchoImpl>(), client_);
  korbtest::EchoStub missing(client_, adapter.CreateReference("nobody", "korbtest.Echo"));
  absl::StatusOr<korbtest::EchoReply> none = missing.Echo(EchoText("x"));
  EXPECT_THAT(none, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(none.status()), ErrorKind::kObjectNotExist);

  korbtest::EchoRequest failing = EchoText("refused");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(stub.Echo(failing),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refused")));
  korbtest::EchoRequest throwing = EchoText("boom");
  throwing.set_throw_exception(true);
  EXPECT_THAT(stub.Echo(throwing), StatusIs(absl::StatusCode::kInternal));

  Ref other_adapter = adapter.CreateReference("e", "korbtest.Echo");
  other_adapter = Ref(other_adapter.type(), other_adapter.endpoints(), "nosuchadapter", "e");
  absl::StatusOr<korbtest::EchoReply> no_adapter =
      korbtest::EchoStub(client_, other_adapter).Echo(EchoText("x"));
  EXPECT_THAT(no_adapter, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(no_adapter.status()), ErrorKind::kObjectNotExist);
}

// A forward is followed (here to another collocated server) and cached.
TEST_F(CollocatedTest, ForwardsAreFollowedAndCached) {
  std::unique_ptr<ObjectServer> other = StartLocalOnlyServer();
  absl::StatusOr<ObjectAdapter*> there = other->CreateAdapter("b", {});
  ASSERT_THAT(there, IsOk());
  ASSERT_THAT((*there)->Resume(), IsOk());
  absl::StatusOr<Ref> moved = (*there)->Activate("w", std::make_shared<WhereEcho>());
  ASSERT_THAT(moved, IsOk());
  ObjectAdapter& here = Adapter("a", ThreadingOptions::SharedPool(2));
  ASSERT_THAT(here.Forward("w", *moved), IsOk());
  korbtest::EchoStub stub(client_, here.CreateReference("w", "korbtest.Echo"));
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(EchoText("moved"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "moved");
  EXPECT_EQ(stub.korb_location().ToString(), moved->ToString());
  EXPECT_THAT(stub.Echo(EchoText("again")), IsOk());
}

// A transient failure is retried with the same korb-request-id; a retried
// write whose reply was lost is answered from the server's reply cache and
// runs once.
TEST_F(CollocatedTest, RetriesKeepTheRequestIdAndRunOnce) {
  ClientOptions options;
  options.retry.initial_backoff = absl::Milliseconds(1);
  options.retry.max_backoff = absl::Milliseconds(5);
  Client client(options);
  // Without a reply cache every attempt reaches the servant.
  AdapterOptions uncached;
  uncached.reply_cache.max_per_object = 0;
  auto failing = std::make_shared<RegisterImpl>("r0");
  auto failing_stub = Activate<korbclient::RegisterStub>(
      Adapter("r0", ThreadingOptions::SharedPool(2), uncached), "reg", failing, client);
  failing->fail_next = 2;
  ASSERT_THAT(failing_stub.Append(OpText("a")), IsOk());
  std::vector<std::string> ids = failing->request_ids();
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].size(), 32u);
  EXPECT_EQ(ids[1], ids[0]);
  EXPECT_EQ(ids[2], ids[0]);

  ObjectAdapter& adapter = Adapter("r1", ThreadingOptions::SharedPool(2));
  auto servant = std::make_shared<RegisterImpl>("r1");
  auto stub = Activate<korbclient::RegisterStub>(adapter, "reg", servant, client);
  ASSERT_THAT(stub.Append(OpText("a")), IsOk());
  std::atomic<int> dropped{0};
  testing::SetReplyDropper(adapter, [&dropped](absl::string_view, absl::string_view method) {
    return absl::EndsWith(method, "/Append") && dropped.fetch_add(1) == 0;
  });
  absl::StatusOr<korbclient::Result> second = stub.Append(OpText("b"));
  ASSERT_THAT(second, IsOk());
  EXPECT_EQ(second->text(), "ab");
  EXPECT_EQ(dropped.load(), 1);
  EXPECT_EQ(servant->value(), "ab") << "the retry ran the write again";
  testing::SetReplyDropper(adapter, nullptr);
}

// The caller's metadata and Korb's headers are what CallContext::Metadata sees.
TEST_F(CollocatedTest, MetadataIsVisibleInCallContext) {
  auto stub = Activate<korbtest::EchoStub>(Adapter("m", ThreadingOptions::SharedPool(2)), "m",
                                           std::make_shared<MetadataEcho>(), client_);
  CallOptions options;
  options.metadata.emplace_back("x-test", "v1");
  options.priority = 7;
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(EchoText(""), options);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(),
            absl::StrCat("x-test=v1;korb-priority=7;korb-object=",
                         EncodeObjectKey(stub.korb_ref().adapter(), stub.korb_ref().id()), ";"));
}

// A oneway call returns once the server accepted it; the operation runs
// after, under the policy.
TEST_F(CollocatedTest, OnewayReturnsBeforeTheOperationRuns) {
  auto sink = std::make_shared<Sink>();
  auto stub = Activate<korbtest::SinkStub>(Adapter("o", ThreadingOptions::SharedPool(2)), "s",
                                           sink, client_);
  EXPECT_THAT(stub.Post(EchoText("block"), {.timeout = kWait}), IsOk());
  ASSERT_TRUE(sink->AwaitRunning());
  EXPECT_THAT(stub.Post(EchoText("+"), {.timeout = kWait}), IsOk());
  sink->Release();
  EXPECT_TRUE(testing::Eventually([&] {
    absl::StatusOr<korbtest::EchoReply> posted = stub.Posted(Empty());
    return posted.ok() && posted->text().size() == 6;
  }));
}

// The Client's message limits hold as over gRPC.
TEST_F(CollocatedTest, MessageLimitsHold) {
  ObjectAdapter& adapter = Adapter("l", ThreadingOptions::SharedPool(2));
  ASSERT_THAT(adapter.Activate("e", std::make_shared<EchoImpl>()), IsOk());
  const Ref ref = adapter.CreateReference("e", "korbtest.Echo");
  Client small_send({.max_send_message_bytes = 10});
  EXPECT_THAT(korbtest::EchoStub(small_send, ref).Echo(EchoText(std::string(100, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("Sent message larger")));
  Client small_receive({.max_receive_message_bytes = 10});
  EXPECT_THAT(korbtest::EchoStub(small_receive, ref).Echo(EchoText(std::string(100, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("Received message larger")));
}

// A server shutting down answers the calls it cannot run UNAVAILABLE
// (transient), as over gRPC, and lets the running one finish.
TEST_F(CollocatedTest, ShutdownAnswersQueuedCallsUnavailable) {
  ObjectAdapter& adapter = Adapter("s", ThreadingOptions::SharedPool(1));
  auto gated = std::make_shared<GatedEcho>();
  auto stub = Activate<korbtest::EchoStub>(adapter, "g", gated, client_);
  Future<korbtest::EchoReply> running = stub.EchoAsync(EchoText("block"));
  ASSERT_TRUE(gated->AwaitRunning(1));
  Future<korbtest::EchoReply> queued = stub.EchoAsync(EchoText("queued"), {.max_attempts = 1});
  ASSERT_TRUE(testing::AwaitQueuedCalls(adapter, 1));
  std::thread shutdown([this] { server_->Shutdown(absl::Milliseconds(50)); });
  ASSERT_TRUE(queued.WaitFor(kWait));
  EXPECT_THAT(queued.Get(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(ErrorKindOf(queued.Get().status()), ErrorKind::kTransient);
  gated->Release();
  shutdown.join();
  ASSERT_TRUE(running.WaitFor(kWait));
  EXPECT_THAT(running.Get(), IsOk());
}

// Callbacks run exactly once, whichever thread answers.
TEST_F(CollocatedTest, AsyncCallsCompleteOnce) {
  for (ThreadingOptions threading : {ThreadingOptions::SharedPool(2), ThreadingOptions::Inline()}) {
    ObjectAdapter& adapter = Adapter(
        threading.kind == ThreadingOptions::Kind::kInline ? "ai" : "ap", threading);
    auto stub = Activate<korbtest::EchoStub>(adapter, "e", std::make_shared<EchoImpl>(), client_);
    std::atomic<int> callbacks{0};
    Notification done;
    stub.EchoAsync(EchoText("cb"), [&](absl::StatusOr<korbtest::EchoReply> reply) {
      EXPECT_THAT(reply, IsOk());
      if (++callbacks == 1) done.Notify();
    });
    ASSERT_TRUE(done.WaitForNotificationWithTimeout(kWait));
    std::vector<Future<korbtest::EchoReply>> futures;
    for (int i = 0; i < 100; ++i) futures.push_back(stub.EchoAsync(EchoText(std::to_string(i))));
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(futures[i].WaitFor(kWait));
      ASSERT_THAT(futures[i].Get(), IsOk());
      EXPECT_EQ(futures[i].Get()->text(), std::to_string(i));
    }
    EXPECT_EQ(callbacks.load(), 1);
  }
}

// ~Client waits for collocated asynchronous calls still in flight.
TEST_F(CollocatedTest, ClientDestructorWaitsForAsyncCalls) {
  ObjectAdapter& adapter = Adapter("w", ThreadingOptions::SharedPool(2));
  ASSERT_THAT(adapter.Activate("e", std::make_shared<EchoImpl>()), IsOk());
  std::atomic<bool> called{false};
  {
    Client client;
    korbtest::EchoRequest late = EchoText("late");
    late.set_delay_ms(100);
    korbtest::EchoStub(client, adapter.CreateReference("e", "korbtest.Echo"))
        .EchoAsync(late, [&called](absl::StatusOr<korbtest::EchoReply>) { called = true; });
  }
  EXPECT_TRUE(called.load());
}

}  // namespace
}  // namespace korb
