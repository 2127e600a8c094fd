// What a hostile client can do to the request pipeline, in memory (so it runs
// under TSan): reuse a request id for another call, make readonly replies
// pile up in the reply cache, send huge header values to be echoed back,
// flood the server with large requests, and make a thread-per-connection
// adapter start a thread per connection. Each is refused with its documented
// status while other calls are still served (docs/security.md, "Limits").
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "adapter/object_adapter.h"
#include "adapter/object_server.h"
#include "adapter/testing/in_memory_transport.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::InMemoryCall;
using ::korb::testing::InMemoryRequest;

constexpr absl::Duration kWait = absl::Seconds(30);

class CountingPing : public testing::EchoImpl {
 public:
  absl::StatusOr<Empty> Ping(CallContext&, const Empty&) override {
    ++pings;
    return Empty();
  }
  std::atomic<int> pings{0};
};

class HostileClientTest : public ::testing::Test {
 protected:
  void Start(AdapterOptions options,
             size_t max_request_bytes = ObjectServerOptions().max_request_bytes_in_flight) {
    // Persistent: object keys are plain "t/<id>", as a client would forge them.
    options.lifespan = Lifespan::kPersistent;
    server_ = testing::StartInMemoryServer(absl::ZeroDuration(), max_request_bytes);
    absl::StatusOr<ObjectAdapter*> adapter = server_->CreateAdapter("t", std::move(options));
    ASSERT_TRUE(adapter.ok()) << adapter.status();
    adapter_ = *adapter;
    ASSERT_TRUE(adapter_->Resume().ok());
  }

  static InMemoryRequest Echo(const std::string& id, const std::string& text,
                              const std::string& peer = "in-memory:1") {
    korbtest::EchoRequest message;
    message.set_text(text);
    InMemoryRequest request;
    request.method_path = "/korbtest.Echo/Echo";
    request.object_key = EncodeObjectKey("t", id);
    request.payload = message.SerializeAsString();
    request.peer = peer;
    return request;
  }
  static InMemoryRequest WithRequestId(InMemoryRequest request, const std::string& request_id) {
    request.metadata.emplace_back(std::string(kRequestIdHeader), request_id);
    return request;
  }

  // Starts `request` and waits for its answer.
  testing::InMemoryReply Call(InMemoryRequest request) {
    std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*server_, std::move(request));
    EXPECT_TRUE(call->Wait(kWait)) << "no answer within " << kWait;
    return call->answered() ? call->reply() : testing::InMemoryReply{};
  }

  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* adapter_ = nullptr;
};

TEST_F(HostileClientTest, RequestIdOfAnotherCallIsRefusedNotAnsweredFromTheCache) {
  Start({.threading = ThreadingOptions::Inline()});
  auto echo = std::make_shared<CountingPing>();
  ASSERT_TRUE(adapter_->Activate("a", echo).ok());

  testing::InMemoryReply first = Call(WithRequestId(Echo("a", "deposit 100"), "R"));
  ASSERT_TRUE(first.status.ok()) << first.status;

  // Another body under the same id.
  testing::InMemoryReply other_body = Call(WithRequestId(Echo("a", "withdraw 50"), "R"));
  EXPECT_EQ(other_body.status.code(), absl::StatusCode::kInvalidArgument) << other_body.status;
  EXPECT_EQ(other_body.korb_error(), "bad-request");
  // Another operation under the same id.
  InMemoryRequest ping = WithRequestId(Echo("a", ""), "R");
  ping.method_path = "/korbtest.Echo/Ping";
  ping.payload.clear();
  testing::InMemoryReply other_operation = Call(ping);
  EXPECT_EQ(other_operation.status.code(), absl::StatusCode::kInvalidArgument)
      << other_operation.status;
  EXPECT_TRUE(other_operation.body.empty()) << "got another call's reply";

  // The real retry is still answered from the cache, without running again.
  testing::InMemoryReply retry = Call(WithRequestId(Echo("a", "deposit 100"), "R"));
  ASSERT_TRUE(retry.status.ok()) << retry.status;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(echo->calls.load(), 1);
  EXPECT_EQ(echo->pings.load(), 0);
}

TEST_F(HostileClientTest, ReadonlyRepliesAreNotCached) {
  Start({.threading = ThreadingOptions::Inline()});
  auto echo = std::make_shared<CountingPing>();
  ASSERT_TRUE(adapter_->Activate("a", echo).ok());
  InMemoryRequest ping = WithRequestId(Echo("a", ""), "R");
  ping.method_path = "/korbtest.Echo/Ping";
  ping.payload.clear();
  for (int i = 0; i < 3; ++i) {
    testing::InMemoryReply reply = Call(ping);
    ASSERT_TRUE(reply.status.ok()) << reply.status;
  }
  // Each ran: a readonly call is safe to run again and its reply is not kept.
  EXPECT_EQ(echo->pings.load(), 3);
}

TEST_F(HostileClientTest, HugeHeaderValuesAreNotEchoedWhole) {
  Start({.threading = ThreadingOptions::Inline()});
  ASSERT_TRUE(adapter_->Activate("a", std::make_shared<testing::EchoImpl>()).ok());
  const std::string huge(7000, 'k');

  InMemoryRequest malformed = Echo("a", "x");
  malformed.object_key = huge;  // no '/': malformed
  InMemoryRequest no_adapter = Echo("a", "x");
  no_adapter.object_key = EncodeObjectKey(huge, "a");
  InMemoryRequest no_object = Echo(huge, "x");
  InMemoryRequest no_operation = Echo("a", "x");
  no_operation.method_path = "/korbtest.Echo/" + huge;
  for (const InMemoryRequest& request : {malformed, no_adapter, no_object, no_operation}) {
    testing::InMemoryReply reply = Call(request);
    EXPECT_FALSE(reply.status.ok());
    EXPECT_LT(reply.status.message().size(), 1024u) << reply.status.message().substr(0, 200);
    EXPECT_THAT(std::string(reply.status.message()),
                ::testing::ContainsRegex("\\(70[0-9]+ bytes\\)"))
        << reply.status.message().substr(0, 600);
  }
}

TEST_F(HostileClientTest, RequestBytesInFlightAreBoundedAcrossTheServer) {
  // 1 MiB in flight; each big request is 600 KB.
  Start({.threading = ThreadingOptions::SharedPool(1)}, 1 << 20);
  auto gated = std::make_shared<testing::GatedEcho>();
  ASSERT_TRUE(adapter_->Activate("a", gated).ok());
  const std::string padding(600 << 10, 'p');

  std::shared_ptr<InMemoryCall> big = InMemoryCall::Start(*server_, Echo("a", "block" + padding));
  ASSERT_TRUE(gated->AwaitRunning(1));
  // A second big one would pass the budget: refused, transient.
  testing::InMemoryReply refused = Call(Echo("a", "second" + padding));
  EXPECT_EQ(refused.status.code(), absl::StatusCode::kResourceExhausted) << refused.status;
  EXPECT_EQ(refused.korb_error(), "transient");
  EXPECT_NE(refused.status.message().find("max_request_bytes_in_flight"), std::string::npos)
      << refused.status;
  // A small one is still served.
  std::shared_ptr<InMemoryCall> small = InMemoryCall::Start(*server_, Echo("a", "small"));

  gated->Release();
  ASSERT_TRUE(big->Wait(kWait));
  ASSERT_TRUE(small->Wait(kWait));
  EXPECT_TRUE(big->reply().status.ok()) << big->reply().status;
  EXPECT_TRUE(small->reply().status.ok()) << small->reply().status;
  // Answered calls give their bytes back.
  testing::InMemoryReply later = Call(Echo("a", "later" + padding));
  EXPECT_TRUE(later.status.ok()) << later.status;
}

TEST_F(HostileClientTest, OneCallLargerThanTheBudgetStillGetsInAlone) {
  Start({.threading = ThreadingOptions::Inline()}, 1000);
  ASSERT_TRUE(adapter_->Activate("a", std::make_shared<testing::EchoImpl>()).ok());
  testing::InMemoryReply reply = Call(Echo("a", std::string(5000, 'x')));
  EXPECT_TRUE(reply.status.ok()) << reply.status;
}

TEST_F(HostileClientTest, ThreadPerConnectionStartsAtMostMaxThreads) {
  ThreadingOptions threading = ThreadingOptions::ThreadPerConnection();
  threading.max_threads = 2;
  Start({.threading = threading});
  auto gated = std::make_shared<testing::GatedEcho>();
  ASSERT_TRUE(adapter_->Activate("a", gated).ok());

  std::vector<std::shared_ptr<InMemoryCall>> blocked;
  for (const char* peer : {"conn:1", "conn:2"}) {
    blocked.push_back(InMemoryCall::Start(*server_, Echo("a", "block", peer)));
  }
  ASSERT_TRUE(gated->AwaitRunning(2));
  testing::InMemoryReply third = Call(Echo("a", "third", "conn:3"));
  EXPECT_EQ(third.status.code(), absl::StatusCode::kResourceExhausted) << third.status;
  EXPECT_EQ(third.korb_error(), "transient");
  // A connection that has a thread is still served (after its running call).
  blocked.push_back(InMemoryCall::Start(*server_, Echo("a", "again", "conn:1")));
  gated->Release();
  for (const auto& call : blocked) {
    ASSERT_TRUE(call->Wait(kWait));
    EXPECT_TRUE(call->reply().status.ok()) << call->reply().status;
  }
  EXPECT_LE(adapter_->Metrics().policy.threads, 2);
}

TEST_F(HostileClientTest, ThreadPerObjectStartsAtMostMaxThreads) {
  ThreadingOptions threading = ThreadingOptions::ThreadPerObject();
  threading.max_threads = 1;
  Start({.threading = threading});
  auto first = std::make_shared<testing::GatedEcho>();
  ASSERT_TRUE(adapter_->Activate("first", first).ok());
  ASSERT_TRUE(adapter_->Activate("second", std::make_shared<testing::EchoImpl>()).ok());

  std::shared_ptr<InMemoryCall> blocked = InMemoryCall::Start(*server_, Echo("first", "block"));
  ASSERT_TRUE(first->AwaitRunning(1));
  testing::InMemoryReply other = Call(Echo("second", "hello"));
  EXPECT_EQ(other.status.code(), absl::StatusCode::kResourceExhausted) << other.status;
  first->Release();
  ASSERT_TRUE(blocked->Wait(kWait));
  EXPECT_TRUE(blocked->reply().status.ok()) << blocked->reply().status;
}

}  // namespace
}  // namespace korb
