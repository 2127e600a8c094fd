// The code protoc-gen-korb generates for tests/idl/protos, used as a servant
// would be: method tables, korb_dispatch over real serialized requests with
// the wire contract's error mapping, and the C++ names of keyword-named and
// nested things. Calls are made in-process, without gRPC.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/status.h>

#include <climits>
#include <concepts>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbidl/deep/nest/tricky.korb.h"
#include "korbidl/nopkg.korb.h"
#include "korbidl/shared/types.korb.h"
#include "tests/idl/byte_buffers.h"
#include "tests/testing/status_matchers.h"

namespace {

namespace nest = ::korbidl::deep::nest;
using ::korb::testing::FromByteBuffer;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::korb::testing::ToByteBuffer;
using ::testing::HasSubstr;

// Implements some operations of the keyword-named interface; Create and Get
// keep their generated UNIMPLEMENTED defaults.
class ServiceImpl : public nest::serviceServant {
 public:
  absl::StatusOr<nest::Outer_Inner> delete_(korb::CallContext& context,
                                            const nest::class_& request) override {
    if (request.throw_exception()) throw std::runtime_error("servant blew up");
    if (request.fail_code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(request.fail_code()), "failed on purpose");
    }
    nest::Outer_Inner reply;
    reply.set_text("deleted " + request.name() + " from " + std::string(context.object_id()));
    reply.set_number(42);
    return reply;
  }

  absl::StatusOr<korbidl::shared::Blob_Meta> Store(korb::CallContext&,
                                                   const korbidl::shared::Blob& blob) override {
    korbidl::shared::Blob_Meta meta;
    meta.set_tag(blob.tag());
    meta.set_size(static_cast<int64_t>(blob.data().size()));
    return meta;
  }
};

class WidgetsImpl : public nest::WidgetsServant {
 public:
  absl::StatusOr<nest::FooReply> Foo(korb::CallContext& context,
                                     const nest::FooRequest& request) override {
    nest::FooReply reply;
    reply.set_text(request.text());
    reply.set_object_id(std::string(context.object_id()));
    return reply;
  }
  absl::StatusOr<nest::class_> new_(korb::CallContext&, const nest::Outer_Inner& request) override {
    nest::class_ reply;
    reply.set_name(request.text());
    return reply;
  }
};

class PlainImpl : public PlainServant {
 public:
  absl::StatusOr<PlainReply> Add(korb::CallContext&, const PlainRequest& request) override {
    PlainReply reply;
    reply.set_sum(request.a() + request.b());
    return reply;
  }
};

// Dispatches `request` to operation `index` of `servant` as the adapter would,
// with a CallContext that has no gRPC context behind it.
grpc::Status Dispatch(korb::Servant& servant, int index, const grpc::ByteBuffer& request,
                      grpc::ByteBuffer* reply) {
  const korb::InterfaceInfo& interface = servant.korb_interface();
  const korb::MethodInfo* method =
      index >= 0 && static_cast<size_t>(index) < interface.methods.size()
          ? &interface.methods[index]
          : nullptr;
  korb::MethodInfo unknown{"unknown", "/unknown/unknown", {}};
  korb::CallContext context(nullptr, nullptr, "object-7", method ? method : &unknown);
  return servant.korb_dispatch(index, context, request, reply);
}

// --- Method tables -----------------------------------------------------------

TEST(GeneratedMethodTable, ListsOperationsInProtoOrderWithGrpcPaths) {
  // The table names the interface and its operations by their .proto names.
  const korb::InterfaceInfo& info = nest::serviceServant::korb_static_interface();
  EXPECT_EQ(info.name, "korbidl.deep.nest.service");
  ASSERT_EQ(info.methods.size(), 5u);
  const char* names[] = {"delete", "Create", "Store", "Notify", "Get"};
  for (size_t i = 0; i < info.methods.size(); ++i) {
    EXPECT_EQ(info.methods[i].name, names[i]);
    EXPECT_EQ(info.methods[i].path, std::string("/korbidl.deep.nest.service/") + names[i]);
  }
}

TEST(GeneratedMethodTable, CarriesKorbMethodOptions) {
  // (korb.method) options land in the table; unset options are false / 0.
  const korb::InterfaceInfo& info = nest::serviceServant::korb_static_interface();
  const korb::MethodSemantics& del = info.methods[0].semantics;
  EXPECT_FALSE(del.readonly);
  EXPECT_FALSE(del.idempotent);
  EXPECT_FALSE(del.oneway);
  EXPECT_EQ(del.priority, 0);
  const korb::MethodSemantics& store = info.methods[2].semantics;
  EXPECT_TRUE(store.idempotent);
  EXPECT_FALSE(store.readonly);
  EXPECT_EQ(store.priority, -2);
  EXPECT_TRUE(info.methods[3].semantics.oneway);
  const korb::MethodSemantics& get = info.methods[4].semantics;
  EXPECT_TRUE(get.readonly);
  EXPECT_TRUE(get.retry_safe());
  EXPECT_EQ(get.priority, 7);
}

TEST(GeneratedMethodTable, PathsAreNulTerminated) {
  // The client hands path.data() to gRPC as a C string.
  for (const korb::InterfaceInfo* info :
       {&nest::serviceServant::korb_static_interface(),
        &nest::WidgetsServant::korb_static_interface(), &PlainServant::korb_static_interface()}) {
    for (const korb::MethodInfo& method : info->methods) {
      EXPECT_EQ(std::strlen(method.path.data()), method.path.size()) << method.path;
    }
  }
}

TEST(GeneratedMethodTable, ServantAndStubShareOneTable) {
  // Both sides of an interface agree on indices because they use one table.
  EXPECT_EQ(&nest::serviceServant::korb_static_interface(),
            &nest::serviceStub::korb_static_interface());
  EXPECT_EQ(&nest::WidgetsServant::korb_static_interface(),
            &nest::WidgetsStub::korb_static_interface());
  EXPECT_EQ(nest::serviceServant::kInterfaceName, "korbidl.deep.nest.service");
  EXPECT_EQ(nest::serviceStub::kInterfaceName, "korbidl.deep.nest.service");
  EXPECT_EQ(nest::WidgetsServant::kInterfaceName,
            nest::WidgetsServant::korb_static_interface().name);
}

TEST(GeneratedMethodTable, FindMethodByPathFindsEveryOperation) {
  // The adapter routes gRPC paths to indices through the table.
  const korb::InterfaceInfo& info = nest::WidgetsServant::korb_static_interface();
  EXPECT_EQ(info.FindMethodByPath("/korbidl.deep.nest.Widgets/Foo"), 0);
  EXPECT_EQ(info.FindMethodByPath("/korbidl.deep.nest.Widgets/new"), 1);
  EXPECT_EQ(info.FindMethodByPath("/korbidl.deep.nest.service/Foo"), -1);
}

TEST(GeneratedMethodTable, NoPackageAndEmptyInterface) {
  // Without a package the interface name is the bare service name.
  const korb::InterfaceInfo& plain = PlainServant::korb_static_interface();
  EXPECT_EQ(plain.name, "Plain");
  ASSERT_EQ(plain.methods.size(), 1u);
  EXPECT_EQ(plain.methods[0].path, "/Plain/Add");
  EXPECT_EQ(NothingServant::korb_static_interface().name, "Nothing");
  EXPECT_TRUE(NothingServant::korb_static_interface().methods.empty());
}

// --- C++ names and signatures ------------------------------------------------

TEST(GeneratedNames, KeywordsAndNestedTypesFollowProtobuf) {
  // rpc delete -> delete_(), message class -> class_, Outer.Inner -> Outer_Inner,
  // imported nested Blob.Meta -> ::korbidl::shared::Blob_Meta.
  static_assert(std::is_same_v<decltype(&nest::serviceServant::delete_),
                               absl::StatusOr<nest::Outer_Inner> (nest::serviceServant::*)(
                                   korb::CallContext&, const nest::class_&)>);
  static_assert(std::is_same_v<decltype(&nest::serviceServant::Store),
                               absl::StatusOr<korbidl::shared::Blob_Meta> (nest::serviceServant::*)(
                                   korb::CallContext&, const korbidl::shared::Blob&)>);
  static_assert(std::is_same_v<decltype(&nest::WidgetsServant::new_),
                               absl::StatusOr<nest::class_> (nest::WidgetsServant::*)(
                                   korb::CallContext&, const nest::Outer_Inner&)>);
  static_assert(std::is_base_of_v<korb::Servant, nest::serviceServant>);
  static_assert(std::is_base_of_v<korb::StubBase, nest::serviceStub>);
  static_assert(std::is_base_of_v<korb::Servant, PlainServant>);
  static_assert(std::is_base_of_v<korb::StubBase, NothingStub>);
}

TEST(GeneratedNames, StubHasSyncCallbackAndFutureVariants) {
  // Async variants take the .proto name plus Async, also for keywords.
  constexpr bool kHasAll = requires(const nest::serviceStub& stub, const nest::class_& request,
                                    std::function<void(absl::StatusOr<nest::Outer_Inner>)> done,
                                    const korb::CallOptions& options) {
    { stub.delete_(request) } -> std::same_as<absl::StatusOr<nest::Outer_Inner>>;
    { stub.delete_(request, options) } -> std::same_as<absl::StatusOr<nest::Outer_Inner>>;
    { stub.deleteAsync(request, done) } -> std::same_as<void>;
    { stub.deleteAsync(request, done, options) } -> std::same_as<void>;
    { stub.deleteAsync(request) } -> std::same_as<korb::Future<nest::Outer_Inner>>;
    { stub.deleteAsync(request, options) } -> std::same_as<korb::Future<nest::Outer_Inner>>;
  };
  static_assert(kHasAll);
  constexpr bool kConstructible =
      std::is_constructible_v<nest::WidgetsStub, korb::Client&, const korb::Ref&> &&
      std::is_constructible_v<nest::WidgetsStub, korb::Client&, const korb::ObjectRef&>;
  static_assert(kConstructible);
}

// --- Skeleton dispatch ---------------------------------------------------------

TEST(GeneratedServant, KorbInterfaceReturnsTheStaticTable) {
  // The adapter sees the interface through the Servant base.
  ServiceImpl impl;
  korb::Servant& servant = impl;
  EXPECT_EQ(&servant.korb_interface(), &nest::serviceServant::korb_static_interface());
}

TEST(GeneratedServant, DispatchDecodesRequestAndEncodesReply) {
  // A serialized request reaches the typed operation; its reply comes back
  // serialized.
  ServiceImpl servant;
  nest::class_ request;
  request.set_name("thing");
  grpc::ByteBuffer reply;
  grpc::Status status = Dispatch(servant, 0, ToByteBuffer(request), &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  nest::Outer_Inner decoded;
  ASSERT_TRUE(FromByteBuffer(reply, &decoded));
  EXPECT_EQ(decoded.text(), "deleted thing from object-7");
  EXPECT_EQ(decoded.number(), 42);
}

TEST(GeneratedServant, DispatchHandlesImportedMessageTypes) {
  // Store takes and returns messages defined in another .proto file.
  ServiceImpl servant;
  korbidl::shared::Blob blob;
  blob.set_data("12345");
  blob.set_tag("five");
  grpc::ByteBuffer reply;
  ASSERT_TRUE(Dispatch(servant, 2, ToByteBuffer(blob), &reply).ok());
  korbidl::shared::Blob_Meta meta;
  ASSERT_TRUE(FromByteBuffer(reply, &meta));
  EXPECT_EQ(meta.tag(), "five");
  EXPECT_EQ(meta.size(), 5);
}

TEST(GeneratedServant, DispatchesEachIndexToItsOwnOperation) {
  // Index 1 of Widgets is `new`, not Foo.
  WidgetsImpl servant;
  nest::FooRequest foo;
  foo.set_text("hello");
  grpc::ByteBuffer reply;
  ASSERT_TRUE(Dispatch(servant, 0, ToByteBuffer(foo), &reply).ok());
  nest::FooReply foo_reply;
  ASSERT_TRUE(FromByteBuffer(reply, &foo_reply));
  EXPECT_EQ(foo_reply.text(), "hello");
  EXPECT_EQ(foo_reply.object_id(), "object-7");

  nest::Outer_Inner inner;
  inner.set_text("made");
  ASSERT_TRUE(Dispatch(servant, 1, ToByteBuffer(inner), &reply).ok());
  nest::class_ made;
  ASSERT_TRUE(FromByteBuffer(reply, &made));
  EXPECT_EQ(made.name(), "made");
}

TEST(GeneratedServant, EmptyRequestDecodesAsDefaultMessage) {
  // Zero bytes are a valid proto3 message, so Add sees 0 + 0.
  PlainImpl servant;
  grpc::ByteBuffer reply;
  ASSERT_TRUE(Dispatch(servant, 0, korb::testing::BytesToByteBuffer(""), &reply).ok());
  PlainReply sum;
  ASSERT_TRUE(FromByteBuffer(reply, &sum));
  EXPECT_EQ(sum.sum(), 0);

  PlainRequest request;
  request.set_a(2);
  request.set_b(40);
  ASSERT_TRUE(Dispatch(servant, 0, ToByteBuffer(request), &reply).ok());
  ASSERT_TRUE(FromByteBuffer(reply, &sum));
  EXPECT_EQ(sum.sum(), 42);
}

TEST(GeneratedServant, DefaultOperationIsUnimplemented) {
  // Operations a servant does not override answer UNIMPLEMENTED, naming them.
  ServiceImpl servant;
  korb::CallContext context(nullptr, nullptr, "object-7",
                            &nest::serviceServant::korb_static_interface().methods[1]);
  EXPECT_THAT(servant.Create(context, nest::Outer_Inner()),
              StatusIs(absl::StatusCode::kUnimplemented,
                       "korbidl.deep.nest.service.Create is not implemented by this servant"));

  grpc::ByteBuffer reply;
  grpc::Status status = Dispatch(servant, 1, ToByteBuffer(nest::Outer_Inner()), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(status.error_message(),
            "korbidl.deep.nest.service.Create is not implemented by this servant");

  nest::serviceServant bare;
  status = Dispatch(bare, 4, ToByteBuffer(korb::Empty()), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_THAT(status.error_message(), HasSubstr("korbidl.deep.nest.service.Get"));
}

TEST(GeneratedServant, UnknownMethodIndexIsUnimplemented) {
  // The index comes from the network; out-of-range values are an error, not UB.
  ServiceImpl servant;
  grpc::ByteBuffer reply;
  for (int index : {-1, 5, 6, 1000, INT_MAX, INT_MIN}) {
    EXPECT_EQ(Dispatch(servant, index, ToByteBuffer(nest::class_()), &reply).error_code(),
              grpc::StatusCode::UNIMPLEMENTED)
        << index;
  }
  NothingServant nothing;
  EXPECT_EQ(Dispatch(nothing, 0, ToByteBuffer(korb::Empty()), &reply).error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
}

TEST(GeneratedServant, UndecodableRequestIsInvalidArgument) {
  // Field 1 claims 5 bytes but only 2 follow: the request does not parse.
  ServiceImpl servant;
  grpc::ByteBuffer reply;
  grpc::Status status = Dispatch(servant, 0,
                                 korb::testing::BytesToByteBuffer(std::string("\x0a\x05"
                                                                              "ab",
                                                                              4)),
                                 &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST(GeneratedServant, OperationStatusPassesThroughUnchanged) {
  // An operation's error status reaches the caller with code and message.
  ServiceImpl servant;
  nest::class_ request;
  request.set_fail_code(static_cast<int>(absl::StatusCode::kNotFound));
  grpc::ByteBuffer reply;
  grpc::Status status = Dispatch(servant, 0, ToByteBuffer(request), &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "failed on purpose");
}

TEST(GeneratedServant, ThrowingOperationIsInternal) {
  // An exception from the servant becomes INTERNAL; dispatch does not throw.
  ServiceImpl servant;
  nest::class_ request;
  request.set_throw_exception(true);
  grpc::ByteBuffer reply;
  grpc::Status status;
  EXPECT_NO_THROW(status = Dispatch(servant, 0, ToByteBuffer(request), &reply));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INTERNAL);
}

}  // namespace
