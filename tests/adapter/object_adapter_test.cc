// ObjectAdapter over the in-memory transport (no gRPC, so under TSan too):
// activation, system ids, deactivation during calls, default objects, the
// wire contract's error mapping, servant errors, factories and shutdown.
// Every test runs under the inline and the shared-pool policy. What is about
// the gRPC transport (both gRPC paths, raw gRPC callers, ObjectServer's
// listening options) is in object_server_grpc_test.
#include "adapter/object_adapter.h"

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/time/clock.h"
#include "adapter/object_server.h"
#include "adapter/testing/in_memory_transport.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/in_memory_fixture.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::InMemoryCall;
using ::korb::testing::InMemoryReply;
using ::korb::testing::InMemoryRequest;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);

class ObjectAdapterTest : public testing::InMemoryFixture,
                          public ::testing::WithParamInterface<ThreadingOptions::Kind> {
 protected:
  void SetUp() override {
    ThreadingOptions threading;
    threading.kind = GetParam();
    threading.pool_threads = 4;
    StartServer({.threading = threading});
  }

  // One call as a bare client sends it: `key` as korb-object (none: the
  // default object), `payload` as is.
  InMemoryReply Raw(const std::string& method_path, std::string payload,
                    std::optional<std::string> key,
                    std::vector<std::pair<std::string, std::string>> metadata = {}) {
    InMemoryRequest request;
    request.method_path = method_path;
    request.object_key = std::move(key);
    request.payload = std::move(payload);
    request.metadata = std::move(metadata);
    std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*server_, std::move(request));
    if (!call->Wait(kDeadline)) {
      ADD_FAILURE() << "call to " << method_path << " not answered";
      InMemoryReply lost;
      lost.status = absl::DeadlineExceededError("not answered");
      return lost;
    }
    return call->reply();
  }
  std::string Key(const std::string& id) {
    return EncodeObjectKey("t@" + adapter_->instance_tag(), id);
  }
};

INSTANTIATE_TEST_SUITE_P(Policies, ObjectAdapterTest,
                         ::testing::Values(ThreadingOptions::Kind::kInline,
                                           ThreadingOptions::Kind::kSharedPool),
                         [](const auto& info) {
                           return info.param == ThreadingOptions::Kind::kInline ? "Inline"
                                                                                : "SharedPool";
                         });

// Activate returns a reference naming this server, the adapter, the id and
// the servant's interface.
TEST_P(ObjectAdapterTest, ActivateReturnsReference) {
  absl::StatusOr<Ref> ref = adapter_->Activate("a/b c", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  EXPECT_EQ(ref->endpoints(), server_->endpoints());
  // A transient adapter (the default) tags its references with its instance.
  EXPECT_EQ(ref->adapter(), "t@" + adapter_->instance_tag());
  EXPECT_EQ(adapter_->instance_tag().size(), 16u);
  EXPECT_EQ(ref->id(), "a/b c");
  EXPECT_EQ(ref->type(), "korbtest.Echo");
  EXPECT_TRUE(adapter_->IsActive("a/b c"));
  EXPECT_EQ(adapter_->active_objects(), 1u);
}

// Invalid activations are refused with clear statuses.
TEST_P(ObjectAdapterTest, ActivateRejectsBadInput) {
  EXPECT_THAT(adapter_->Activate("", std::make_shared<EchoImpl>()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(adapter_->Activate("x", nullptr), StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(adapter_->Activate("x", std::make_shared<EchoImpl>()), IsOk());
  EXPECT_THAT(adapter_->Activate("x", std::make_shared<EchoImpl>()),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("already active")));
}

// System-assigned ids are distinct.
TEST_P(ObjectAdapterTest, SystemAssignedIdsAreUnique) {
  absl::flat_hash_set<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    absl::StatusOr<Ref> ref = adapter_->Activate(std::make_shared<EchoImpl>());
    ASSERT_THAT(ref, IsOk());
    EXPECT_TRUE(ids.insert(ref->id()).second) << ref->id();
  }
  EXPECT_EQ(adapter_->active_objects(), 200u);
}

// A stub reaches the activated object, which sees its own id and the caller's
// metadata.
TEST_P(ObjectAdapterTest, CallReachesActivatedObject) {
  testing::InMemoryEchoStub stub = ActivateEcho("obj/1", std::make_shared<EchoImpl>());
  CallOptions options;
  options.metadata.emplace_back("x-test", "hello");
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("hi"), options);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "hi");
  EXPECT_EQ(reply->object_id(), "obj/1");
  EXPECT_EQ(reply->metadata(), "hello");
}

// After Deactivate, calls get NOT_FOUND with korb-error object-not-exist, and
// a second Deactivate is NOT_FOUND.
TEST_P(ObjectAdapterTest, DeactivatedObjectDoesNotExist) {
  testing::InMemoryEchoStub stub = ActivateEcho("gone", std::make_shared<EchoImpl>());
  ASSERT_THAT(adapter_->Deactivate("gone"), IsOk());
  EXPECT_FALSE(adapter_->IsActive("gone"));
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("hi"));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound, HasSubstr("gone")));
  EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kObjectNotExist);
  EXPECT_THAT(adapter_->Deactivate("gone"), StatusIs(absl::StatusCode::kNotFound));
}

// A call in flight keeps its servant alive through Deactivate and completes;
// the servant is destroyed after it.
TEST_P(ObjectAdapterTest, DeactivateDuringCallLetsCallFinish) {
  auto servant = std::make_shared<EchoImpl>();
  std::weak_ptr<EchoImpl> weak = servant;
  testing::InMemoryEchoStub stub = ActivateEcho("busy", servant);
  korbtest::EchoRequest slow = Text("slow");
  slow.set_delay_ms(300);
  // A thread of its own: an inline policy runs the servant on the caller's.
  absl::StatusOr<korbtest::EchoReply> reply;
  std::thread caller([&] { reply = stub.Echo(slow); });
  EXPECT_TRUE(servant->AwaitRunning(1)) << "the call never reached the servant";
  servant.reset();
  ASSERT_THAT(adapter_->Deactivate("busy"), IsOk());
  caller.join();
  EXPECT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "slow");
  // The reply is sent before the call's last reference drops; allow for it.
  const absl::Time deadline = absl::Now() + kDeadline;
  while (!weak.expired()) {
    ASSERT_LT(absl::Now(), deadline) << "servant outlived its last call";
    absl::SleepFor(absl::Milliseconds(1));
  }
}

// A call without korb-object reaches the interface's default object; without
// a default it is NOT_FOUND / object-not-exist.
TEST_P(ObjectAdapterTest, DefaultObjectServesCallsWithoutKey) {
  const std::string path = "/korbtest.Echo/Echo";
  InMemoryReply none = Raw(path, Text("x").SerializeAsString(), std::nullopt);
  EXPECT_EQ(none.status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(none.korb_error(), "object-not-exist");

  ASSERT_THAT(adapter_->Activate("main", std::make_shared<EchoImpl>()), IsOk());
  EXPECT_THAT(adapter_->SetDefaultObject("nope"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(adapter_->SetDefaultObject("main"), IsOk());
  InMemoryReply reply = Raw(path, Text("plain").SerializeAsString(), std::nullopt);
  ASSERT_TRUE(reply.status.ok()) << reply.status;
  korbtest::EchoReply decoded;
  ASSERT_TRUE(decoded.ParseFromString(reply.body));
  EXPECT_EQ(decoded.text(), "plain");
  EXPECT_EQ(decoded.object_id(), "main");
}

// Unknown methods, adapters and malformed keys or bodies get the wire
// contract's codes and korb-error values.
TEST_P(ObjectAdapterTest, ErrorMapping) {
  ASSERT_THAT(adapter_->Activate("e", std::make_shared<EchoImpl>()), IsOk());
  struct Case {
    const char* what;
    std::string path;
    std::string payload;
    std::optional<std::string> key;
    std::vector<std::pair<std::string, std::string>> metadata;
    absl::StatusCode code;
    std::string korb_error;  // "" for none expected
  };
  const std::vector<Case> cases = {
      {"unknown method", "/korbtest.Echo/Nope", "", Key("e"), {},
       absl::StatusCode::kUnimplemented, "no-such-method"},
      {"other interface", "/korbtest.EchoFactory/Create", "", Key("e"), {},
       absl::StatusCode::kUnimplemented, "no-such-method"},
      {"unknown adapter", "/korbtest.Echo/Echo", "", EncodeObjectKey("nope", "e"), {},
       absl::StatusCode::kNotFound, "object-not-exist"},
      {"unknown object", "/korbtest.Echo/Echo", "", Key("zzz"), {},
       absl::StatusCode::kNotFound, "object-not-exist"},
      {"stale instance", "/korbtest.Echo/Echo", "", EncodeObjectKey("t@0123456789abcdef", "e"),
       {}, absl::StatusCode::kNotFound, "object-not-exist"},
      {"bad key", "/korbtest.Echo/Echo", "", "no-slash", {},
       absl::StatusCode::kInvalidArgument, "bad-request"},
      {"bad body", "/korbtest.Echo/Echo", std::string("\xff\xff\xff\xff", 4), Key("e"), {},
       absl::StatusCode::kInvalidArgument, "bad-request"},
      {"bad priority", "/korbtest.Echo/Echo", "", Key("e"), {{"korb-priority", "x"}},
       absl::StatusCode::kInvalidArgument, "bad-request"},
      {"bad request id", "/korbtest.Echo/Echo", "", Key("e"), {{"korb-request-id", ""}},
       absl::StatusCode::kInvalidArgument, "bad-request"},
      {"malformed path", "/justone", "", std::nullopt, {},
       absl::StatusCode::kUnimplemented, "no-such-method"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    InMemoryReply reply = Raw(c.path, c.payload, c.key, c.metadata);
    EXPECT_EQ(reply.status.code(), c.code) << reply.status;
    EXPECT_EQ(reply.korb_error(), c.korb_error);
  }
  // The object still serves.
  EXPECT_TRUE(Raw("/korbtest.Echo/Echo", "", Key("e")).status.ok());
}

// A servant's status passes through unchanged; a throwing servant gives
// INTERNAL and the server keeps serving.
TEST_P(ObjectAdapterTest, ServantErrorsPassThrough) {
  testing::InMemoryEchoStub stub = ActivateEcho("e", std::make_shared<EchoImpl>());
  korbtest::EchoRequest failing = Text("account frozen");
  failing.set_fail_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  absl::StatusOr<korbtest::EchoReply> failed = stub.Echo(failing);
  EXPECT_EQ(failed.status(), absl::FailedPreconditionError("account frozen"));
  EXPECT_EQ(ErrorKindOf(failed.status()), ErrorKind::kNone);

  korbtest::EchoRequest throwing = Text("boom");
  throwing.set_throw_exception(true);
  EXPECT_THAT(stub.Echo(throwing),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("servant exploded")));
  EXPECT_THAT(stub.Echo(Text("still serving")), IsOk());
}

// Operations a servant does not override answer UNIMPLEMENTED.
TEST_P(ObjectAdapterTest, UnimplementedOperation) {
  class Bare : public korbtest::EchoServant {};
  testing::InMemoryEchoStub stub = ActivateEcho("bare", std::make_shared<Bare>());
  EXPECT_THAT(stub.Ping(Empty()), StatusIs(absl::StatusCode::kUnimplemented));
}

// A factory servant activates objects through its call context.
TEST_P(ObjectAdapterTest, FactoryActivatesObjects) {
  absl::StatusOr<Ref> factory_ref =
      adapter_->Activate("factory", std::make_shared<testing::FactoryImpl>());
  ASSERT_THAT(factory_ref, IsOk());
  testing::InMemoryFactoryStub factory(client_, *factory_ref);
  korbtest::CreateRequest create;
  create.set_id("made");
  absl::StatusOr<ObjectRef> made = factory.Create(create);
  ASSERT_THAT(made, IsOk());
  absl::StatusOr<Ref> made_ref = Ref::FromProto(*made);
  ASSERT_THAT(made_ref, IsOk());
  testing::InMemoryEchoStub echo(client_, *made_ref);
  absl::StatusOr<korbtest::EchoReply> reply = echo.Echo(Text("from factory"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->object_id(), "made");
  EXPECT_THAT(factory.Create(create), StatusIs(absl::StatusCode::kAlreadyExists));
}

// Shutdown lets a call in flight finish, then refuses activation.
TEST_P(ObjectAdapterTest, ShutdownDrainsCallsInFlight) {
  auto servant = std::make_shared<EchoImpl>();
  testing::InMemoryEchoStub stub = ActivateEcho("e", servant);
  korbtest::EchoRequest slow = Text("slow");
  slow.set_delay_ms(200);
  absl::StatusOr<korbtest::EchoReply> reply;
  std::thread caller([&] { reply = stub.Echo(slow); });
  EXPECT_TRUE(servant->AwaitRunning(1)) << "the call never reached the servant";
  server_->Shutdown(kDeadline);
  caller.join();
  EXPECT_THAT(reply, IsOk());
  EXPECT_THAT(adapter_->Activate("late", std::make_shared<EchoImpl>()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  server_->Shutdown();  // idempotent
}

}  // namespace
}  // namespace korb
