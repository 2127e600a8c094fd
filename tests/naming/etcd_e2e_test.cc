// The naming service on a real etcd, across processes: an etcd started by the
// test, `korb-naming --etcd` servers, and registered_server processes, over
// TCP on 127.0.0.1 (issue #9's list):
//   - a registered server killed with SIGKILL disappears from resolution
//     within its lease TTL + 1 s, and a client long-polling WaitForChanges
//     sees it leave;
//   - etcd restarted (crash, same data): servers' bindings are back, and a
//     server registered meanwhile is too; etcd restarted empty: servers
//     register again;
//   - two korb-naming servers on one etcd, one killed: a client calling
//     through a two-endpoint reference keeps resolving;
//   - bad input through korb-naming: malformed names, names too long, a
//     malformed reference, unbinding what is not bound, each a clear status.
// Skipped, with a message, when etcd is not installed.
#include <signal.h>

#include <optional>
#include <string>

#include "client/client.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "tests/naming/naming_e2e_fixture.h"
#include "tests/naming/naming_processes.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::naming::testing::EtcdProcess;
using ::korb::naming::testing::Eventually;
using ::korb::naming::testing::RefProcess;
using ::korb::naming::testing::StartWithRef;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

class EtcdE2eTest : public ::korb::naming::testing::NamingE2eFixture {
 protected:
  void SetUp() override {
    if (!EtcdProcess::Binary()) GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    absl::StatusOr<EtcdProcess> etcd = EtcdProcess::Start();
    ASSERT_THAT(etcd, IsOk());
    etcd_.emplace(*std::move(etcd));
  }

  RefProcess StartNaming() {
    absl::StatusOr<RefProcess> naming =
        StartWithRef(KORB_NAMING_SERVER, {"--etcd", etcd_->endpoint()});
    EXPECT_THAT(naming, IsOk());
    return *std::move(naming);
  }

  std::optional<EtcdProcess> etcd_;
};

TEST_F(EtcdE2eTest, KilledServerDisappearsWithinTtlPlusOneSecond) {
  constexpr int kTtl = 2;
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", kTtl);
  ExpectRegistered(server);
  absl::StatusOr<ResolveReply> reply = Resolve(naming.ref, "svc/echo");
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(*Ref::FromProto(reply->ref()), server.ref);
  server.process.Kill(SIGKILL);
  EXPECT_TRUE(Eventually(absl::Seconds(kTtl + 1), [&] { return IsUnbound(naming.ref, "svc/echo"); }))
      << "still bound " << kTtl + 1 << " s after SIGKILL";
}

TEST_F(EtcdE2eTest, WaitingClientSeesAKilledServerLeave) {
  constexpr int kTtl = 2;
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", kTtl);
  ExpectRegistered(server);
  absl::StatusOr<ResolveReply> resolved = Resolve(naming.ref, "svc/echo");
  ASSERT_THAT(resolved, IsOk());
  NamingContextStub stub(client_, naming.ref);
  WaitRequest wait;
  wait.set_prefix("svc");
  wait.set_after_revision(resolved->revision());
  wait.set_timeout_ms(60000);
  Future<WaitReply> waiting = stub.WaitForChangesAsync(wait, {.timeout = absl::Seconds(90)});
  server.process.Kill(SIGKILL);
  ASSERT_TRUE(waiting.WaitFor(absl::Seconds(90))) << "the long poll did not return within 90 s";
  const absl::StatusOr<WaitReply>& reply = waiting.Get();
  ASSERT_THAT(reply, IsOk());
  ASSERT_GE(reply->changes_size(), 1) << "no change reported";
  const Change& last = reply->changes(reply->changes_size() - 1);
  EXPECT_EQ(last.name(), "svc/echo");
  EXPECT_EQ(last.binding().members_size(), 0);
  EXPECT_GT(reply->revision(), resolved->revision());
}

TEST_F(EtcdE2eTest, CleanShutdownUnregistersAtOnce) {
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", /*ttl=*/60);
  ExpectRegistered(server);
  server.process.Kill(SIGTERM);
  EXPECT_TRUE(IsUnbound(naming.ref, "svc/echo"));
}

TEST_F(EtcdE2eTest, EtcdRestartedServersReestablishTheirBindings) {
  RefProcess naming = StartNaming();
  RefProcess a = StartServer(naming.ref, "svc/a", /*ttl=*/3);
  ExpectRegistered(a);
  ASSERT_THAT(Resolve(naming.ref, "svc/a"), IsOk());
  ASSERT_THAT(etcd_->Restart(), IsOk());  // SIGKILL, then the same data again
  EXPECT_TRUE(Eventually(absl::Seconds(60), [&] { return Resolve(naming.ref, "svc/a").ok(); }))
      << "svc/a not resolvable within 60 s of etcd's restart";
  // Still held by a live lease: it stays while the server lives...
  absl::SleepFor(absl::Seconds(4));
  EXPECT_THAT(Resolve(naming.ref, "svc/a"), IsOk());
  // ...and a server that registers after the restart is seen too.
  RefProcess b = StartServer(naming.ref, "svc/b", /*ttl=*/3);
  ExpectRegistered(b);
  EXPECT_THAT(Resolve(naming.ref, "svc/b"), IsOk());
}

TEST_F(EtcdE2eTest, EtcdRestartedEmptyServersRegisterAgain) {
  RefProcess naming = StartNaming();
  RefProcess server = StartServer(naming.ref, "svc/echo", /*ttl=*/3);
  ExpectRegistered(server);
  ASSERT_THAT(etcd_->RestartEmpty(), IsOk());  // its data is lost
  EXPECT_TRUE(Eventually(absl::Seconds(60), [&] { return Resolve(naming.ref, "svc/echo").ok(); }))
      << "the server did not register again within 60 s";
}

TEST_F(EtcdE2eTest, TwoNamingServersOneKilledClientsKeepResolving) {
  RefProcess first = StartNaming();
  RefProcess second = StartNaming();
  // One reference naming both: korb-naming on etcd holds no state.
  Ref both = first.ref;
  std::vector<HostPort> endpoints = first.ref.endpoints();
  endpoints.push_back(second.ref.endpoints().front());
  both.set_endpoints(endpoints);
  NamingContextStub naming(client_, both);
  BindRequest bind;
  bind.set_name("bank");
  *bind.mutable_ref() = Ref::Parse("korb://127.0.0.1:7000/bank/main?type=bank.Bank")->ToProto();
  ASSERT_THAT(naming.Bind(bind, {.timeout = absl::Seconds(10)}), IsOk());
  NameRequest name;
  name.set_name("bank");
  for (int i = 0; i < 20; ++i) ASSERT_THAT(naming.Resolve(name, {.timeout = absl::Seconds(10)}), IsOk());
  first.process.Kill(SIGKILL);
  int failed = 0;
  for (int i = 0; i < 100; ++i) {
    if (!naming.Resolve(name, {.timeout = absl::Seconds(10)}).ok()) ++failed;
  }
  EXPECT_EQ(failed, 0) << "resolutions failed after one of two korb-naming servers died";
  // The survivor sees what was bound through the other.
  EXPECT_THAT(Resolve(second.ref, "bank"), IsOk());
}

TEST_F(EtcdE2eTest, BadInputGetsAClearStatus) {
  RefProcess server = StartNaming();
  NamingContextStub naming(client_, server.ref);
  const korb::ObjectRef bank =
      Ref::Parse("korb://127.0.0.1:7000/bank/main?type=bank.Bank")->ToProto();
  BindRequest bind;
  *bind.mutable_ref() = bank;
  for (const std::string& malformed : {std::string("a//b"), std::string("/a"), std::string("a/.."),
                                       std::string("a b"), std::string("")}) {
    bind.set_name(malformed);
    absl::StatusOr<korb::Empty> reply = naming.Bind(bind);
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")))
        << "\"" << malformed << "\"";
    EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kBadRequest);
  }
  bind.set_name(std::string(257, 'a'));
  EXPECT_THAT(naming.Bind(bind), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 256")));
  bind.set_name(std::string(65, 'a'));
  EXPECT_THAT(naming.Bind(bind), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 64")));
  bind.set_name("bank");
  bind.mutable_ref()->clear_endpoints();
  absl::StatusOr<korb::Empty> bad_ref = naming.Bind(bind);
  EXPECT_THAT(bad_ref, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference")));
  EXPECT_EQ(ErrorKindOf(bad_ref.status()), ErrorKind::kBadRequest);
  NameRequest unbound;
  unbound.set_name("not/bound");
  absl::StatusOr<korb::Empty> unbind = naming.Unbind(unbound);
  EXPECT_THAT(unbind, StatusIs(absl::StatusCode::kNotFound, HasSubstr("not/bound")));
  EXPECT_EQ(ErrorKindOf(unbind.status()), ErrorKind::kNameNotBound);
  // Nothing of it reached etcd, and the server still serves.
  EXPECT_TRUE(IsUnbound(server.ref, "bank"));
}

TEST_F(EtcdE2eTest, UnreachableEtcdIsATransientError) {
  RefProcess naming = StartNaming();
  etcd_->Stop();
  absl::StatusOr<ResolveReply> reply = Resolve(naming.ref, "bank");
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("etcd")));
  EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kTransient);
}

}  // namespace
}  // namespace korb::naming
