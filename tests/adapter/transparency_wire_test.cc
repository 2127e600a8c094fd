// The server side of client transparency, as raw requests and the replies'
// status and trailers (the wire contract's terms), over the in-memory
// transport so that it runs under TSan: korb-load on every reply, forwards,
// korb-request-id deduplication (also of a reply lost after the operation
// ran). The gRPC transport carries the same trailers (object_adapter_test).
#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapter/testing/fault_injection.h"
#include "adapter/object_adapter.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "adapter/testing/in_memory_transport.h"
#include "skeletons/dispatch.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::GatedEcho;
using ::korb::testing::IsOk;
using ::korb::testing::RawReply;
using ::korb::testing::StatusIs;

using Metadata = std::vector<std::pair<std::string, std::string>>;

class TransparencyWireTest : public testing::InMemoryFixture {
 protected:
  void SetUp() override { StartServer({.threading = ThreadingOptions::SharedPool(4)}); }
  // A raw call of `path` with `body` and `metadata`, as a plain gRPC client
  // would make it, over the in-memory transport; at most 30 s.
  RawReply RawCall(const std::string& path, const std::string& body, const Metadata& metadata) {
    testing::InMemoryRequest request;
    request.method_path = path;
    request.payload = body;
    for (const auto& [key, value] : metadata) {
      if (key == "korb-object") {
        request.object_key = value;
      } else {
        request.metadata.emplace_back(key, value);
      }
    }
    std::shared_ptr<testing::InMemoryCall> call =
        testing::InMemoryCall::Start(*server_, std::move(request));
    RawReply raw;
    if (!call->Wait(absl::Seconds(30))) {
      raw.status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "not answered in 30 s");
      return raw;
    }
    const testing::InMemoryReply& reply = call->reply();
    raw.status = ToGrpcStatus(reply.status);
    raw.korb_error = reply.korb_error();
    raw.body = reply.body;
    raw.trailers = reply.trailers;
    return raw;
  }
  Metadata Key(const std::string& id, Metadata extra = {}) {
    extra.emplace_back("korb-object", EncodeObjectKey(adapter_->name() + "@" +
                                                          adapter_->instance_tag(), id));
    return extra;
  }
  RawReply Echo(const std::string& id, const std::string& text, Metadata extra = {}) {
    return RawCall("/korbtest.Echo/Echo", Text(text).SerializeAsString(),
                   Key(id, std::move(extra)));
  }
  static std::string ReplyText(const RawReply& reply) {
    korbtest::EchoReply parsed;
    EXPECT_TRUE(parsed.ParseFromString(reply.body));
    return parsed.text();
  }
};

// Every reply of an adapter carries its load: calls in flight after this one.
TEST_F(TransparencyWireTest, EveryReplyCarriesLoad) {
  auto gated = std::make_shared<GatedEcho>();
  ASSERT_THAT(adapter_->Activate("gated", gated), IsOk());
  ASSERT_THAT(adapter_->Activate("plain", std::make_shared<EchoImpl>()), IsOk());
  RawReply idle = Echo("plain", "x");
  ASSERT_TRUE(idle.status.ok()) << idle.status.error_message();
  EXPECT_EQ(idle.trailers["korb-load"], "0");
  testing::InMemoryEchoStub stub(client_, adapter_->CreateReference("gated", "korbtest.Echo"));
  std::vector<Future<korbtest::EchoReply>> blocked;
  for (int i = 0; i < 3; ++i) blocked.push_back(stub.EchoAsync(Text("block")));
  ASSERT_TRUE(gated->AwaitRunning(3));
  RawReply busy = Echo("plain", "x");
  EXPECT_EQ(busy.trailers["korb-load"], "3");
  RawReply failed = Echo("nobody", "x");
  EXPECT_EQ(failed.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(failed.trailers["korb-load"], "3") << "error replies carry the load too";
  gated->Release();
  for (auto& call : blocked) ASSERT_TRUE(call.WaitFor(absl::Seconds(30)));
}

// A forward answers NOT_FOUND with korb-error: forward and the new location;
// it deactivates the object; removing it leaves object-not-exist.
TEST_F(TransparencyWireTest, ForwardNamesTheNewLocation) {
  ASSERT_THAT(adapter_->Activate("moving", std::make_shared<EchoImpl>()), IsOk());
  Ref there({"korbtest.Echo"}, {HostPort{"10.0.0.7", 7000}}, "elsewhere", "moved");
  ASSERT_THAT(adapter_->Forward("moving", there), IsOk());
  EXPECT_FALSE(adapter_->IsActive("moving"));
  RawReply reply = Echo("moving", "x");
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(reply.korb_error, "forward");
  EXPECT_EQ(reply.trailers["korb-forward"], there.ToString());
  // An object activated under the id again takes precedence.
  ASSERT_THAT(adapter_->Activate("moving", std::make_shared<EchoImpl>()), IsOk());
  EXPECT_TRUE(Echo("moving", "x").status.ok());
  ASSERT_THAT(adapter_->Deactivate("moving"), IsOk());
  ASSERT_THAT(adapter_->RemoveForward("moving"), IsOk());
  EXPECT_EQ(Echo("moving", "x").korb_error, "object-not-exist");
  EXPECT_THAT(adapter_->RemoveForward("moving"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(adapter_->Forward("x", Ref()), StatusIs(absl::StatusCode::kInvalidArgument));
}

// Refines its errors as the runtime does: a status with a korb::ErrorKind.
class RefiningEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext&, const korbtest::EchoRequest&) override {
    return WithErrorKind(absl::UnavailableError("too busy, come back later"),
                         ErrorKind::kTransient);
  }
};

// A servant's status reaches the caller with code and message unchanged, and
// the korb::ErrorKind attached to it as the korb-error trailer; a status
// without one carries none.
TEST_F(TransparencyWireTest, ServantErrorKindIsTheKorbErrorTrailer) {
  ASSERT_THAT(adapter_->Activate("refining", std::make_shared<RefiningEcho>()), IsOk());
  ASSERT_THAT(adapter_->Activate("plain", std::make_shared<EchoImpl>()), IsOk());
  RawReply refined = Echo("refining", "x");
  EXPECT_EQ(refined.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(refined.status.error_message(), "too busy, come back later");
  EXPECT_EQ(refined.korb_error, "transient");
  korbtest::EchoRequest failing = Text("no");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  RawReply plain = RawCall("/korbtest.Echo/Echo", failing.SerializeAsString(), Key("plain"));
  EXPECT_EQ(plain.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(plain.korb_error, "");
}

// A call repeated with its korb-request-id is answered from the reply cache,
// not executed again — also when it failed — and per object.
TEST_F(TransparencyWireTest, RequestIdRunsOnce) {
  auto servant = std::make_shared<EchoImpl>();
  ASSERT_THAT(adapter_->Activate("a", servant), IsOk());
  ASSERT_THAT(adapter_->Activate("b", servant), IsOk());
  RawReply first = Echo("a", "one", {{"korb-request-id", "req-1"}});
  ASSERT_TRUE(first.status.ok());
  RawReply again = Echo("a", "one", {{"korb-request-id", "req-1"}});
  ASSERT_TRUE(again.status.ok());
  EXPECT_EQ(ReplyText(again), "one") << "not the cached reply";
  EXPECT_EQ(servant->calls.load(), 1);
  // The id names that call: another body under it is refused, not answered.
  RawReply reused = Echo("a", "different body", {{"korb-request-id", "req-1"}});
  EXPECT_EQ(reused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(reused.korb_error, "bad-request");
  EXPECT_EQ(servant->calls.load(), 1);
  EXPECT_TRUE(Echo("b", "two", {{"korb-request-id", "req-1"}}).status.ok());
  EXPECT_EQ(servant->calls.load(), 2) << "request ids are per object";
  EXPECT_TRUE(Echo("a", "three").status.ok());
  EXPECT_EQ(servant->calls.load(), 3) << "calls without a request id always run";

  korbtest::EchoRequest failing = Text("no");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  Metadata with_id = Key("a", {{"korb-request-id", "req-2"}});
  RawReply failed = RawCall("/korbtest.Echo/Echo", failing.SerializeAsString(), with_id);
  RawReply failed_again =
      RawCall("/korbtest.Echo/Echo", failing.SerializeAsString(), with_id);
  EXPECT_EQ(failed_again.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(failed_again.status.error_message(), failed.status.error_message());
  EXPECT_EQ(servant->calls.load(), 4);

  RawReply bad = Echo("a", "x", {{"korb-request-id", std::string(65, 'x')}});
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.korb_error, "bad-request");
}

// A call that did not run (the object did not exist) is not cached: the
// retry runs once the object is there.
TEST_F(TransparencyWireTest, RequestIdOfCallThatDidNotRunIsForgotten) {
  EXPECT_EQ(Echo("late", "x", {{"korb-request-id", "req-1"}}).korb_error, "object-not-exist");
  auto servant = std::make_shared<EchoImpl>();
  ASSERT_THAT(adapter_->Activate("late", servant), IsOk());
  EXPECT_TRUE(Echo("late", "x", {{"korb-request-id", "req-1"}}).status.ok());
  EXPECT_EQ(servant->calls.load(), 1);
}

// A request whose payload does not decode did not run its operation: its
// request id is not answered from the cache, and a retry with a good
// payload runs.
TEST_F(TransparencyWireTest, RequestIdOfUndecodableRequestIsForgotten) {
  auto servant = std::make_shared<EchoImpl>();
  ASSERT_THAT(adapter_->Activate("a", servant), IsOk());
  Metadata with_id = Key("a", {{"korb-request-id", "req-1"}});
  // Field 1 announced as 100 bytes long, with 1 byte following: truncated.
  RawReply garbled = RawCall("/korbtest.Echo/Echo", std::string("\x0a\x64x", 3), with_id);
  EXPECT_EQ(garbled.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(garbled.korb_error, "bad-request");
  RawReply retried =
      RawCall("/korbtest.Echo/Echo", Text("good").SerializeAsString(), with_id);
  ASSERT_TRUE(retried.status.ok()) << retried.status.error_message();
  EXPECT_EQ(ReplyText(retried), "good");
  EXPECT_EQ(servant->calls.load(), 1);
}

// While the first execution runs, a retry is told to come back (transient);
// afterwards it gets the reply.
TEST_F(TransparencyWireTest, RetryDuringExecutionIsTransient) {
  auto gated = std::make_shared<GatedEcho>();
  ASSERT_THAT(adapter_->Activate("g", gated), IsOk());
  RawReply first;
  std::thread caller([&] { first = Echo("g", "block", {{"korb-request-id", "req-1"}}); });
  ASSERT_TRUE(gated->AwaitRunning(1));
  RawReply early = Echo("g", "block", {{"korb-request-id", "req-1"}});
  EXPECT_EQ(early.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(early.korb_error, "transient");
  gated->Release();
  caller.join();
  ASSERT_TRUE(first.status.ok());
  RawReply late = Echo("g", "block", {{"korb-request-id", "req-1"}});
  ASSERT_TRUE(late.status.ok());
  EXPECT_EQ(gated->log().size(), 1u) << "the operation ran twice";
}

// The fault hook loses a reply after the operation ran; the retry with the
// same request id gets the real reply without running it again.
TEST_F(TransparencyWireTest, LostReplyIsRecoveredByRequestId) {
  auto servant = std::make_shared<EchoImpl>();
  ASSERT_THAT(adapter_->Activate("a", servant), IsOk());
  korb::testing::SetReplyDropper(*adapter_,
      [](absl::string_view id, absl::string_view method) { return id == "a"; });
  RawReply lost = Echo("a", "deposit", {{"korb-request-id", "req-1"}});
  EXPECT_EQ(lost.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(servant->calls.load(), 1);
  RawReply retried = Echo("a", "deposit", {{"korb-request-id", "req-1"}});
  ASSERT_TRUE(retried.status.ok()) << retried.status.error_message();
  EXPECT_EQ(ReplyText(retried), "deposit");
  EXPECT_EQ(servant->calls.load(), 1) << "the retry ran the operation again";
  korb::testing::SetReplyDropper(*adapter_, nullptr);
  EXPECT_TRUE(Echo("a", "x").status.ok());
}

}  // namespace
}  // namespace korb
