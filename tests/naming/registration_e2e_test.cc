// Registration (servants/naming/registration.h) across processes: real
// `korb-naming` servers (in-memory backend) and registered_server processes
// that register an Echo object under a name, over TCP on 127.0.0.1.
//   - a registered server is resolvable, and callable through what resolves;
//   - SIGTERM unregisters at once (clean shutdown);
//   - SIGKILL: the server disappears from resolution within TTL + 1 s;
//   - a server started before its naming service registers once it is up;
//   - korb-naming restarted (empty): servers register again;
//   - two servers under one name form a replica group; one killed leaves it.
#include <signal.h>

#include <string>

#include "client/client.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "korbtest/testing.korb.h"
#include "tests/naming/naming_e2e_fixture.h"
#include "tests/naming/naming_processes.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::naming::testing::Eventually;
using ::korb::naming::testing::FreePort;
using ::korb::naming::testing::Local;
using ::korb::naming::testing::RefProcess;
using ::korb::naming::testing::StartWithRef;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;

class RegistrationE2eTest : public ::korb::naming::testing::NamingE2eFixture {
 protected:
  // Starts korb-naming on `port` (0: a free one).
  RefProcess StartNaming(int port = 0) {
    absl::StatusOr<RefProcess> naming =
        StartWithRef(KORB_NAMING_SERVER, {"--listen", Local(port)});
    EXPECT_THAT(naming, IsOk());
    return *std::move(naming);
  }
};

TEST_F(RegistrationE2eTest, RegisteredServerIsResolvableAndCallable) {
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo");
  ExpectRegistered(server);
  absl::StatusOr<ResolveReply> reply = Resolve(naming.ref, "svc/echo");
  ASSERT_THAT(reply, IsOk());
  absl::StatusOr<Ref> resolved = Ref::FromProto(reply->ref());
  ASSERT_THAT(resolved, IsOk());
  EXPECT_EQ(*resolved, server.ref);
  ASSERT_EQ(reply->members_size(), 1);
  EXPECT_GT(reply->members(0).lease(), 0);
  korbtest::EchoStub echo(client_, *resolved);
  korbtest::EchoRequest request;
  request.set_text("hello");
  absl::StatusOr<korbtest::EchoReply> answer = echo.Echo(request, {.timeout = absl::Seconds(10)});
  ASSERT_THAT(answer, IsOk());
  EXPECT_EQ(answer->metadata(), "hello");
}

TEST_F(RegistrationE2eTest, CleanShutdownUnregistersAtOnce) {
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", /*ttl=*/60);
  ExpectRegistered(server);
  server.process.Kill(SIGTERM);
  // The server left and revoked its lease before it exited: no waiting for
  // the 60 s TTL.
  EXPECT_TRUE(IsUnbound(naming.ref, "svc/echo"));
}

TEST_F(RegistrationE2eTest, KilledServerDisappearsWithinTtlPlusOneSecond) {
  constexpr int kTtl = 2;
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", kTtl);
  ExpectRegistered(server);
  ASSERT_THAT(Resolve(naming.ref, "svc/echo"), IsOk());
  server.process.Kill(SIGKILL);
  EXPECT_TRUE(Eventually(absl::Seconds(kTtl + 1), [&] { return IsUnbound(naming.ref, "svc/echo"); }))
      << "still bound " << kTtl + 1 << " s after SIGKILL";
}

TEST_F(RegistrationE2eTest, ServerStartedBeforeTheNamingServiceRegistersLater) {
  const int port = FreePort();
  const Ref naming_ref(std::string(NamingContextStub::kInterfaceName),
                       {{"127.0.0.1", static_cast<uint16_t>(port)}}, "korb-naming", "root");
  // Nothing listens there yet; the server starts and serves anyway.
  RefProcess server = StartServer(naming_ref, "svc/echo");
  absl::SleepFor(absl::Milliseconds(500));
  RefProcess naming = StartNaming(port);
  ExpectRegistered(server);
  EXPECT_THAT(Resolve(naming.ref, "svc/echo"), IsOk());
}

TEST_F(RegistrationE2eTest, RestartedNamingServiceIsRegisteredAgain) {
  const int port = FreePort();
  std::optional<RefProcess> naming(StartNaming(port));
  RefProcess server = StartServer(naming->ref, "svc/echo", /*ttl=*/3);
  ExpectRegistered(server);
  const Ref naming_ref = naming->ref;
  naming->process.Kill(SIGKILL);
  naming.reset();
  naming.emplace(StartNaming(port));  // empty directory, same reference
  EXPECT_TRUE(Eventually(absl::Seconds(60), [&] { return Resolve(naming_ref, "svc/echo").ok(); }))
      << "the server did not register again within 60 s";
}

TEST_F(RegistrationE2eTest, ServersUnderOneNameFormAReplicaGroup) {
  constexpr int kTtl = 2;
  RefProcess naming = StartNaming();
  RefProcess a = StartServer(naming.ref, "svc/group", kTtl);
  RefProcess b = StartServer(naming.ref, "svc/group", kTtl);
  ExpectRegistered(a);
  ExpectRegistered(b);
  absl::StatusOr<ResolveReply> reply = Resolve(naming.ref, "svc/group");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->members_size(), 2);
  EXPECT_EQ(reply->ref().endpoints_size(), 2);
  b.process.Kill(SIGKILL);
  EXPECT_TRUE(Eventually(absl::Seconds(kTtl + 1), [&] {
    absl::StatusOr<ResolveReply> r = Resolve(naming.ref, "svc/group");
    return r.ok() && r->members_size() == 1;
  })) << "the killed member is still there " << kTtl + 1 << " s after SIGKILL";
  reply = Resolve(naming.ref, "svc/group");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(Ref::FromProto(reply->ref())->endpoints(), a.ref.endpoints());
}

}  // namespace
}  // namespace korb::naming
