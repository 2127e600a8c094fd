// ObjectServer's gRPC transport in one process, called over loopback TCP by
// Korb stubs and by plain gRPC (RawCall), on both gRPC paths (generic and
// registered) under both built-in threading policies: metadata reaching the
// servant, default objects for plain gRPC callers, the wire contract's codes
// and korb-error trailers, servant errors on the wire, shutdown with a call
// in flight; and the server's listening options. What is about the adapter
// alone runs in memory (object_adapter_test, also under TSan).
#include "adapter/object_adapter.h"

#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "adapter/object_server.h"
#include "client/client.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_servants.h"

namespace korb {
namespace {

using ::korb::testing::EchoImpl;
using ::korb::testing::IsOk;
using ::korb::testing::RawCall;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

korbtest::EchoRequest Text(const std::string& text) {
  korbtest::EchoRequest request;
  request.set_text(text);
  return request;
}

std::string Serialized(const google::protobuf::Message& message) {
  return message.SerializeAsString();
}

struct Setup {
  ThreadingOptions::Kind policy;
  bool registered;  // korbtest.Echo listed in ObjectServerOptions::interfaces
};

class ObjectServerGrpcTest : public ::testing::TestWithParam<Setup> {
 protected:
  void SetUp() override {
    ObjectServerOptions options;
    // Unknown adapters are object-not-exist at once (ErrorMapping).
    options.startup_window = absl::ZeroDuration();
    if (GetParam().registered) {
      options.interfaces = {&korbtest::EchoServant::korb_static_interface(),
                            &korbtest::EchoFactoryServant::korb_static_interface()};
    }
    absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start(options);
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
    ThreadingOptions threading;
    threading.kind = GetParam().policy;
    threading.pool_threads = 4;
    absl::StatusOr<ObjectAdapter*> adapter =
        server_->CreateAdapter("test", {.threading = threading});
    ASSERT_THAT(adapter, IsOk());
    adapter_ = *adapter;
    ASSERT_THAT(adapter_->Resume(), IsOk());
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return client_.Channel(server_->endpoints().front());
  }

  // Over gRPC, never collocated: this file tests the gRPC transport.
  Client client_{ClientOptions{.collocated_calls = false}};
  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* adapter_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(
    PoliciesAndPaths, ObjectServerGrpcTest,
    ::testing::Values(Setup{ThreadingOptions::Kind::kInline, false},
                      Setup{ThreadingOptions::Kind::kSharedPool, false},
                      Setup{ThreadingOptions::Kind::kInline, true},
                      Setup{ThreadingOptions::Kind::kSharedPool, true}),
    [](const auto& info) {
      std::string name = info.param.policy == ThreadingOptions::Kind::kInline ? "Inline"
                                                                               : "SharedPool";
      return name + (info.param.registered ? "Registered" : "Generic");
    });

// A stub reaches the activated object, which sees its own id and the caller's
// metadata.
TEST_P(ObjectServerGrpcTest, CallReachesActivatedObject) {
  absl::StatusOr<Ref> ref = adapter_->Activate("obj/1", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  korbtest::EchoStub stub(client_, *ref);
  CallOptions options;
  options.metadata.emplace_back("x-test", "hello");
  absl::StatusOr<korbtest::EchoReply> reply = stub.Echo(Text("hi"), options);
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->text(), "hi");
  EXPECT_EQ(reply->object_id(), "obj/1");
  EXPECT_EQ(reply->metadata(), "hello");
}

// A plain gRPC call without korb-object reaches the interface's default
// object; without a default it is NOT_FOUND / object-not-exist.
TEST_P(ObjectServerGrpcTest, DefaultObjectServesCallsWithoutKey) {
  const std::string path = "/korbtest.Echo/Echo";
  testing::RawReply none = RawCall(Channel(), path, Serialized(Text("x")));
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(none.korb_error, "object-not-exist");

  ASSERT_THAT(adapter_->Activate("main", std::make_shared<EchoImpl>()), IsOk());
  EXPECT_THAT(adapter_->SetDefaultObject("nope"), StatusIs(absl::StatusCode::kNotFound));
  ASSERT_THAT(adapter_->SetDefaultObject("main"), IsOk());
  testing::RawReply reply = RawCall(Channel(), path, Serialized(Text("plain grpc")));
  ASSERT_TRUE(reply.status.ok()) << reply.status.error_message();
  korbtest::EchoReply decoded;
  ASSERT_TRUE(decoded.ParseFromString(reply.body));
  EXPECT_EQ(decoded.text(), "plain grpc");
  EXPECT_EQ(decoded.object_id(), "main");
}

// Unknown methods, adapters and malformed keys or bodies get the wire
// contract's codes and korb-error values.
TEST_P(ObjectServerGrpcTest, ErrorMapping) {
  ASSERT_THAT(adapter_->Activate("e", std::make_shared<EchoImpl>()), IsOk());
  const std::string adapter_key = "test@" + adapter_->instance_tag();
  std::vector<std::pair<std::string, std::string>> key = {{"korb-object", adapter_key + "/e"}};
  auto channel = Channel();

  testing::RawReply unknown_method = RawCall(channel, "/korbtest.Echo/Nope", "", key);
  EXPECT_EQ(unknown_method.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(unknown_method.korb_error, "no-such-method");

  testing::RawReply other_interface =
      RawCall(channel, "/korbtest.EchoFactory/Create", "", key);
  EXPECT_EQ(other_interface.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(other_interface.korb_error, "no-such-method");

  testing::RawReply unknown_adapter =
      RawCall(channel, "/korbtest.Echo/Echo", "", {{"korb-object", "nope/e"}});
  EXPECT_EQ(unknown_adapter.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown_adapter.korb_error, "object-not-exist");

  testing::RawReply unknown_object =
      RawCall(channel, "/korbtest.Echo/Echo", "", {{"korb-object", adapter_key + "/zzz"}});
  EXPECT_EQ(unknown_object.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(unknown_object.korb_error, "object-not-exist");

  testing::RawReply bad_key =
      RawCall(channel, "/korbtest.Echo/Echo", "", {{"korb-object", "no-slash"}});
  EXPECT_EQ(bad_key.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  testing::RawReply bad_body =
      RawCall(channel, "/korbtest.Echo/Echo", std::string("\xff\xff\xff\xff", 4), key);
  EXPECT_EQ(bad_body.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad_body.korb_error, "bad-request");

  testing::RawReply bad_priority = RawCall(channel, "/korbtest.Echo/Echo", "",
                                           {{"korb-object", adapter_key + "/e"}, {"korb-priority", "x"}});
  EXPECT_EQ(bad_priority.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  testing::RawReply malformed_path = RawCall(channel, "/justone", "");
  EXPECT_EQ(malformed_path.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

// A servant's status passes through unchanged; a throwing servant gives
// INTERNAL and the server keeps serving.
TEST_P(ObjectServerGrpcTest, ServantErrorsPassThrough) {
  absl::StatusOr<Ref> ref = adapter_->Activate("e", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  korbtest::EchoStub stub(client_, *ref);

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

// Shutdown lets a call in flight finish, then refuses activation.
TEST_P(ObjectServerGrpcTest, ShutdownDrainsCallsInFlight) {
  auto servant = std::make_shared<EchoImpl>();
  absl::StatusOr<Ref> ref = adapter_->Activate("e", servant);
  ASSERT_THAT(ref, IsOk());
  korbtest::EchoStub stub(client_, *ref);
  korbtest::EchoRequest slow = Text("slow");
  slow.set_delay_ms(200);
  Future<korbtest::EchoReply> call = stub.EchoAsync(slow);
  ASSERT_TRUE(servant->AwaitRunning(1)) << "the call never reached the servant";
  server_->Shutdown(absl::Seconds(30));
  ASSERT_TRUE(call.WaitFor(absl::Seconds(30)));
  EXPECT_THAT(call.Get(), IsOk());
  EXPECT_THAT(adapter_->Activate("late", std::make_shared<EchoImpl>()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  server_->Shutdown();  // idempotent
}

// A request over the server's size limit fails that call with
// RESOURCE_EXHAUSTED; the server keeps serving.
TEST(ObjectServer, OversizedRequestIsRefused) {
  ObjectServerOptions options;
  options.max_receive_message_bytes = 1024;
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start(options);
  ASSERT_THAT(server, IsOk());
  absl::StatusOr<ObjectAdapter*> adapter = (*server)->CreateAdapter("a");
  ASSERT_THAT(adapter, IsOk());
  absl::StatusOr<Ref> ref = (*adapter)->Activate("e", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  ASSERT_THAT((*adapter)->Resume(), IsOk());
  Client client({.collocated_calls = false});
  korbtest::EchoStub stub(client, *ref);
  EXPECT_THAT(stub.Echo(Text(std::string(4096, 'x'))),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT(stub.Echo(Text("small")), IsOk());
}

// A server listening on two endpoints issues references naming both, and
// serves calls arriving at either.
TEST(ObjectServer, ListensOnSeveralEndpoints) {
  ObjectServerOptions options;
  options.listen = {"127.0.0.1:0", "127.0.0.1:0"};
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start(options);
  ASSERT_THAT(server, IsOk());
  ASSERT_EQ((*server)->endpoints().size(), 2u);
  EXPECT_NE((*server)->endpoints()[0].port, (*server)->endpoints()[1].port);
  absl::StatusOr<ObjectAdapter*> adapter = (*server)->CreateAdapter("a");
  ASSERT_THAT(adapter, IsOk());
  absl::StatusOr<Ref> ref = (*adapter)->Activate("e", std::make_shared<EchoImpl>());
  ASSERT_THAT(ref, IsOk());
  ASSERT_THAT((*adapter)->Resume(), IsOk());
  ASSERT_EQ(ref->endpoints(), (*server)->endpoints());
  Client client({.collocated_calls = false});
  for (const HostPort& endpoint : ref->endpoints()) {
    Ref one = *ref;
    one.set_endpoints({endpoint});
    korbtest::EchoStub stub(client, one);
    EXPECT_THAT(stub.Echo(Text(endpoint.ToString())), IsOk());
  }
}

// The advertised host replaces the listening host in references.
TEST(ObjectServer, AdvertisedHost) {
  ObjectServerOptions options;
  options.advertised_host = "bank.example";
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start(options);
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ((*server)->endpoints().front().host, "bank.example");
}

TEST(ObjectServer, AdapterNamesAreUnique) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  ASSERT_THAT((*server)->CreateAdapter("a"), IsOk());
  EXPECT_THAT((*server)->CreateAdapter("a"), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT((*server)->CreateAdapter(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_NE((*server)->FindAdapter("a"), nullptr);
  EXPECT_EQ((*server)->FindAdapter("b"), nullptr);
}

TEST(ObjectServer, AdapterNamesAreListedSorted) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
  ASSERT_THAT(server, IsOk());
  EXPECT_TRUE((*server)->AdapterNames().empty());
  ASSERT_THAT((*server)->CreateAdapter("zeta"), IsOk());
  ASSERT_THAT((*server)->CreateAdapter("alpha"), IsOk());
  EXPECT_EQ((*server)->AdapterNames(), (std::vector<std::string>{"alpha", "zeta"}));
}

TEST(ObjectServer, BadListenAddressIsAnError) {
  ObjectServerOptions options;
  options.listen = {"no-port"};
  EXPECT_THAT(ObjectServer::Start(options), StatusIs(absl::StatusCode::kInvalidArgument));
  options.listen = {"256.1.1.1:5"};
  EXPECT_THAT(ObjectServer::Start(options), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ObjectServer, PortInUseIsAnError) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> first = ObjectServer::Start({});
  ASSERT_THAT(first, IsOk());
  ObjectServerOptions options;
  options.listen = {(*first)->endpoints().front().ToString()};
  EXPECT_THAT(ObjectServer::Start(options), StatusIs(absl::StatusCode::kUnavailable));
}

TEST(ObjectServerKeepalive, NegativePingIntervalIsRejected) {
  ObjectServerOptions options;
  options.min_client_ping_interval = absl::Seconds(-1);
  EXPECT_THAT(ObjectServer::Start(options), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace korb
