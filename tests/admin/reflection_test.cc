// gRPC server reflection on an ObjectServer (ObjectServerOptions::reflection),
// read with korbctl's reflection client over real gRPC: the registered
// interfaces are listed; every interface linked into the server, including
// those served only on the generic path, is described by name; and a server
// with reflection off offers none.
#include <grpcpp/create_channel.h>

#include <memory>
#include <string>
#include <vector>

#include "adapter/object_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/admin.korb.h"
#include "korbtest/testing.korb.h"
#include "servants/admin/admin_service.h"
#include "tests/testing/status_matchers.h"
#include "tools/korbctl/reflection_client.h"

namespace korb::ctl {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::Contains;
using ::testing::Not;

std::unique_ptr<ObjectServer> StartServer(ObjectServerOptions options) {
  absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start(std::move(options));
  EXPECT_THAT(server.status(), IsOk());
  return server.ok() ? *std::move(server) : nullptr;
}

ReflectionClient ClientFor(const ObjectServer& server) {
  return ReflectionClient(
      grpc::CreateChannel(server.endpoints()[0].ToString(), grpc::InsecureChannelCredentials()),
      absl::Seconds(30));
}

TEST(ServerReflection, ListsTheRegisteredInterfaces) {
  ObjectServerOptions options;
  options.interfaces = {&korbtest::EchoServant::korb_static_interface(),
                        &admin::AdminServant::korb_static_interface()};
  std::unique_ptr<ObjectServer> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ASSERT_THAT(admin::Serve(*server).status(), IsOk());
  ReflectionClient reflection = ClientFor(*server);
  absl::StatusOr<std::vector<std::string>> services = reflection.ListServices();
  ASSERT_THAT(services.status(), IsOk());
  EXPECT_THAT(*services, Contains("korbtest.Echo"));
  EXPECT_THAT(*services, Contains("korb.admin.Admin"));
  EXPECT_THAT(*services, Contains("grpc.reflection.v1alpha.ServerReflection"));
  // Not registered: served on the generic path, so not known in advance.
  EXPECT_THAT(*services, Not(Contains("korbtest.Sink")));
}

TEST(ServerReflection, DescribesGenericPathInterfacesByName) {
  std::unique_ptr<ObjectServer> server = StartServer({});
  ASSERT_NE(server, nullptr);
  ReflectionClient reflection = ClientFor(*server);
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> sink =
      reflection.FindService("korbtest.Sink");
  ASSERT_THAT(sink.status(), IsOk());
  ASSERT_NE((*sink)->FindMethodByName("Post"), nullptr);
  EXPECT_EQ((*sink)->FindMethodByName("Post")->input_type()->full_name(), "korbtest.EchoRequest");
  // The imports came along: Korb's own messages resolve.
  absl::StatusOr<const google::protobuf::ServiceDescriptor*> echo =
      reflection.FindService("korbtest.Echo");
  ASSERT_THAT(echo.status(), IsOk());
  EXPECT_EQ((*echo)->FindMethodByName("Ping")->input_type()->full_name(), "korb.Empty");
}

TEST(ServerReflection, UnknownInterfaceIsNotFound) {
  std::unique_ptr<ObjectServer> server = StartServer({});
  ASSERT_NE(server, nullptr);
  ReflectionClient reflection = ClientFor(*server);
  EXPECT_THAT(reflection.FindService("no.Such").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ServerReflection, OffMeansNoReflectionService) {
  ObjectServerOptions options;
  options.reflection = false;
  std::unique_ptr<ObjectServer> server = StartServer(options);
  ASSERT_NE(server, nullptr);
  ReflectionClient reflection = ClientFor(*server);
  absl::StatusOr<std::vector<std::string>> services = reflection.ListServices();
  EXPECT_FALSE(services.ok());
  EXPECT_THAT(reflection.FindService("korbtest.Echo").status(), Not(IsOk()));
}

}  // namespace
}  // namespace korb::ctl
