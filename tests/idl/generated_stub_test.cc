// Generated stubs against an in-process gRPC server that records what
// arrives: each stub method must call its own operation's gRPC path with the
// serialized request and the target object's korb-object metadata, and decode
// the reply, in its synchronous, callback and future variants. A plain
// generic gRPC service stands in for the object adapter, so this tests the
// generated code and the client runtime only.
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/support/byte_buffer.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "common/sync.h"
#include "absl/time/time.h"
#include "common/ref.h"
#include "common/wire.h"
#include "gtest/gtest.h"
#include "korbidl/deep/nest/tricky.korb.h"
#include "korbidl/nopkg.korb.h"
#include "tests/idl/byte_buffers.h"
#include "tests/testing/status_matchers.h"

namespace {

namespace nest = ::korbidl::deep::nest;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;

// What the server saw of one call.
struct RecordedCall {
  std::string path;
  std::string request;  // serialized
  std::string object;   // korb-object metadata, "" if absent
};

// A generic gRPC service that records every call and answers it with the
// serialized reply registered for its path, or UNIMPLEMENTED.
// Thread-safe: reactors run on gRPC threads.
class RecordingService : public grpc::CallbackGenericService {
 public:
  void SetReply(const std::string& path, const google::protobuf::MessageLite& reply)
      ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    replies_[path] = reply.SerializeAsString();
  }

  std::vector<RecordedCall> calls() const ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    return calls_;
  }

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override {
    return new Reactor(this, context);
  }

 private:
  // Reads the single request of a unary call, then writes the reply and
  // finishes. Deletes itself in OnDone.
  class Reactor : public grpc::ServerGenericBidiReactor {
   public:
    Reactor(RecordingService* service, grpc::GenericCallbackServerContext* context)
        : service_(service), context_(context) {
      StartRead(&request_);
    }

    void OnReadDone(bool ok) override {
      if (!ok) {
        Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request"));
        return;
      }
      RecordedCall call{context_->method(), korb::testing::ByteBufferToBytes(request_), ""};
      auto object = context_->client_metadata().find(std::string(korb::kObjectKeyHeader));
      if (object != context_->client_metadata().end()) {
        call.object.assign(object->second.data(), object->second.size());
      }
      std::optional<std::string> reply = service_->Record(std::move(call));
      if (!reply.has_value()) {
        Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no reply registered"));
        return;
      }
      reply_ = korb::testing::BytesToByteBuffer(*reply);
      StartWriteAndFinish(&reply_, grpc::WriteOptions(), grpc::Status::OK);
    }

    void OnDone() override { delete this; }

   private:
    RecordingService* service_;
    grpc::GenericCallbackServerContext* context_;
    grpc::ByteBuffer request_;
    grpc::ByteBuffer reply_;
  };

  std::optional<std::string> Record(RecordedCall call) ABSL_LOCKS_EXCLUDED(mu_) {
    korb::MutexLock lock(&mu_);
    auto reply = replies_.find(call.path);
    calls_.push_back(std::move(call));
    if (reply == replies_.end()) return std::nullopt;
    return reply->second;
  }

  mutable korb::Mutex mu_;
  std::map<std::string, std::string> replies_ ABSL_GUARDED_BY(mu_);
  std::vector<RecordedCall> calls_ ABSL_GUARDED_BY(mu_);
};

class GeneratedStubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterCallbackGenericService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  void TearDown() override {
    client_.reset();  // waits for asynchronous calls in flight
    if (server_ != nullptr) server_->Shutdown();
  }

  // A reference to object `id` of adapter "adapter" on the test server.
  korb::Ref RefTo(absl::string_view type, std::string id) const {
    return korb::Ref(std::string(type), {korb::HostPort{"127.0.0.1", static_cast<uint16_t>(port_)}},
                     "adapter", std::move(id));
  }

  RecordingService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<korb::Client> client_ = std::make_unique<korb::Client>();
};

TEST_F(GeneratedStubTest, EachMethodCallsItsOwnPath) {
  // Foo is index 0 and new_ index 1 of Widgets; each must reach its own path
  // with its request and decode its own reply type.
  nest::FooReply foo_reply;
  foo_reply.set_text("foo reply");
  service_.SetReply("/korbidl.deep.nest.Widgets/Foo", foo_reply);
  nest::class_ new_reply;
  new_reply.set_name("new reply");
  service_.SetReply("/korbidl.deep.nest.Widgets/new", new_reply);

  nest::WidgetsStub stub(*client_, RefTo(nest::WidgetsStub::kInterfaceName, "obj/1"));
  ASSERT_THAT(stub.korb_status(), IsOk());

  nest::FooRequest foo;
  foo.set_text("foo request");
  absl::StatusOr<nest::FooReply> got_foo = stub.Foo(foo);
  ASSERT_THAT(got_foo, IsOk());
  EXPECT_EQ(got_foo->text(), "foo reply");

  nest::Outer_Inner inner;
  inner.set_text("new request");
  absl::StatusOr<nest::class_> got_new = stub.new_(inner);
  ASSERT_THAT(got_new, IsOk());
  EXPECT_EQ(got_new->name(), "new reply");

  std::vector<RecordedCall> calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].path, "/korbidl.deep.nest.Widgets/Foo");
  EXPECT_EQ(calls[0].request, foo.SerializeAsString());
  EXPECT_EQ(calls[0].object, korb::EncodeObjectKey("adapter", "obj/1"));
  EXPECT_EQ(calls[1].path, "/korbidl.deep.nest.Widgets/new");
  EXPECT_EQ(calls[1].request, inner.SerializeAsString());
}

TEST_F(GeneratedStubTest, ImportedTypesAndLaterIndices) {
  // Store (index 2) uses messages of another file; Get (index 4) takes korb.Empty.
  korbidl::shared::Blob_Meta meta;
  meta.set_size(3);
  service_.SetReply("/korbidl.deep.nest.service/Store", meta);
  nest::Outer outer;
  outer.mutable_inner()->set_number(9);
  service_.SetReply("/korbidl.deep.nest.service/Get", outer);

  nest::serviceStub stub(*client_, RefTo(nest::serviceStub::kInterfaceName, "svc"));
  korbidl::shared::Blob blob;
  blob.set_data("abc");
  absl::StatusOr<korbidl::shared::Blob_Meta> stored = stub.Store(blob);
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->size(), 3);
  absl::StatusOr<nest::Outer> got = stub.Get(korb::Empty());
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->inner().number(), 9);

  std::vector<RecordedCall> calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].path, "/korbidl.deep.nest.service/Store");
  EXPECT_EQ(calls[1].path, "/korbidl.deep.nest.service/Get");
}

TEST_F(GeneratedStubTest, CallbackAndFutureVariantsReachTheSameOperation) {
  // FooAsync(request, done) and FooAsync(request) call Foo's path.
  nest::FooReply reply;
  reply.set_text("async");
  service_.SetReply("/korbidl.deep.nest.Widgets/Foo", reply);
  nest::WidgetsStub stub(*client_, RefTo(nest::WidgetsStub::kInterfaceName, "obj"));

  korb::Notification done;
  absl::StatusOr<nest::FooReply> from_callback;
  stub.FooAsync(nest::FooRequest(), [&](absl::StatusOr<nest::FooReply> result) {
    from_callback = std::move(result);
    done.Notify();
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  ASSERT_THAT(from_callback, IsOk());
  EXPECT_EQ(from_callback->text(), "async");

  korb::Future<nest::FooReply> future = stub.FooAsync(nest::FooRequest());
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30)));
  ASSERT_THAT(future.Get(), IsOk());
  EXPECT_EQ(future.Get()->text(), "async");

  std::vector<RecordedCall> calls = service_.calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].path, "/korbidl.deep.nest.Widgets/Foo");
  EXPECT_EQ(calls[1].path, "/korbidl.deep.nest.Widgets/Foo");
}

TEST_F(GeneratedStubTest, ServerErrorReachesTheCaller) {
  // No reply registered: the server answers UNIMPLEMENTED.
  PlainStub stub(*client_, RefTo(PlainStub::kInterfaceName, "p"));
  EXPECT_THAT(stub.Add(PlainRequest()), StatusIs(absl::StatusCode::kUnimplemented));
  std::vector<RecordedCall> calls = service_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/Plain/Add");
}

TEST_F(GeneratedStubTest, ConstructsFromTheWireFormOfAReference) {
  // Factories return korb.ObjectRef; a stub accepts it directly.
  nest::FooReply reply;
  service_.SetReply("/korbidl.deep.nest.Widgets/Foo", reply);
  korb::ObjectRef wire = RefTo(nest::WidgetsStub::kInterfaceName, "from-wire").ToProto();
  nest::WidgetsStub stub(*client_, wire);
  EXPECT_THAT(stub.Foo(nest::FooRequest()), IsOk());
  std::vector<RecordedCall> calls = service_.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].object, korb::EncodeObjectKey("adapter", "from-wire"));
}

TEST_F(GeneratedStubTest, InvalidReferenceFailsEveryVariantWithoutCalling) {
  // An empty reference: every call fails with INVALID_ARGUMENT, none is sent.
  nest::WidgetsStub stub(*client_, korb::Ref());
  EXPECT_THAT(stub.korb_status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(stub.Foo(nest::FooRequest()), StatusIs(absl::StatusCode::kInvalidArgument));
  korb::Notification done;
  stub.FooAsync(nest::FooRequest(), [&](absl::StatusOr<nest::FooReply> result) {
    EXPECT_THAT(result, StatusIs(absl::StatusCode::kInvalidArgument));
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(30)));
  korb::Future<nest::FooReply> future = stub.FooAsync(nest::FooRequest());
  ASSERT_TRUE(future.WaitFor(absl::Seconds(30)));
  EXPECT_THAT(future.Get(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(service_.calls().empty());
}

TEST_F(GeneratedStubTest, ReferenceToAnotherInterfaceIsRejected) {
  // A Widgets stub for an object that says it is a `service`.
  korb::Ref ref = RefTo(nest::serviceStub::kInterfaceName, "svc");
  EXPECT_THAT(korb::MakeStub<nest::WidgetsStub>(*client_, ref),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(korb::MakeStub<nest::serviceStub>(*client_, ref), IsOk());
  EXPECT_THAT(korb::MakeStub<nest::WidgetsStub>(*client_, ref.ToString()),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(service_.calls().empty());
}

}  // namespace
