// Access control (adapter/access_control.h) and the peer identity servants
// see (CallContext::peer_identity()), over the in-memory transport with the
// caller's verified identity set by the test, as mTLS would set it.
#include "adapter/access_control.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "adapter/object_server.h"
#include "adapter/servant_manager.h"
#include "adapter/testing/in_memory_transport.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korbtest/testing.korb.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::InMemoryCall;
using ::korb::testing::InMemoryReply;
using ::korb::testing::InMemoryRequest;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

constexpr absl::Duration kDeadline = absl::Seconds(30);
constexpr char kEcho[] = "/korbtest.Echo/Echo";
constexpr char kPing[] = "/korbtest.Echo/Ping";  // readonly, priority 3

// Echoes, and reports who it saw calling: "<common name>|<address>|<sans>".
class IdentityEcho : public korbtest::EchoServant {
 public:
  absl::StatusOr<korbtest::EchoReply> Echo(CallContext& context,
                                           const korbtest::EchoRequest& request) override {
    ++calls;
    const PeerIdentity& peer = context.peer_identity();
    korbtest::EchoReply reply;
    reply.set_text(request.text());
    reply.set_metadata(absl::StrCat(peer.common_name, "|", peer.address, "|",
                                    absl::StrJoin(peer.Principals(), ",")));
    return reply;
  }
  absl::StatusOr<Empty> Ping(CallContext&, const Empty&) override {
    ++calls;
    return Empty();
  }
  std::atomic<int> calls{0};
};

PeerIdentity Cert(std::string common_name) {
  PeerIdentity peer;
  peer.tls = true;
  peer.verified = true;
  peer.subject = absl::StrCat("CN=", common_name, ",O=Korb");
  peer.common_name = std::move(common_name);
  return peer;
}

// Accepts "authorization: Bearer t-<user>" as principal "user:<user>";
// any other bearer token is UNAUTHENTICATED; no header, no principal.
class TokenAuthenticator : public Authenticator {
 public:
  absl::StatusOr<std::vector<std::string>> Authenticate(const PeerIdentity&,
                                                        MetadataLookup metadata) const override {
    std::optional<absl::string_view> value = metadata("authorization");
    if (!value.has_value()) return std::vector<std::string>();
    if (!absl::StartsWith(*value, "Bearer t-")) {
      return absl::UnauthenticatedError("invalid bearer token");
    }
    return std::vector<std::string>{absl::StrCat("user:", value->substr(9))};
  }
};

class AccessControlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = testing::StartInMemoryServer();
    // Persistent: its object keys carry no instance tag.
    absl::StatusOr<ObjectAdapter*> adapter =
        server_->CreateAdapter("t", {.lifespan = Lifespan::kPersistent});
    ASSERT_THAT(adapter, IsOk());
    adapter_ = *adapter;
    ASSERT_THAT(adapter_->Activate("e", servant_), IsOk());
    ASSERT_THAT(adapter_->Resume(), IsOk());
  }

  // Calls `method` of object "e" as `peer` with `metadata`; the reply.
  InMemoryReply Call(const std::string& method, PeerIdentity peer,
                     std::vector<std::pair<std::string, std::string>> metadata = {}) {
    InMemoryRequest request;
    request.method_path = method;
    request.object_key = EncodeObjectKey("t", "e");
    request.metadata = std::move(metadata);
    request.identity = std::move(peer);
    if (method == kEcho) {
      korbtest::EchoRequest echo;
      echo.set_text("hi");
      request.payload = echo.SerializeAsString();
    }
    std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*server_, std::move(request));
    EXPECT_TRUE(call->Wait(kDeadline)) << method << " was not answered within " << kDeadline;
    if (call->answered()) return call->reply();
    InMemoryReply unanswered;
    unanswered.status = absl::DeadlineExceededError("not answered");
    return unanswered;
  }

  static void ExpectDenied(const InMemoryReply& reply, absl::string_view words) {
    EXPECT_THAT(reply.status, StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(words)));
    EXPECT_EQ(reply.korb_error(), "permission-denied");
  }

  std::shared_ptr<IdentityEcho> servant_ = std::make_shared<IdentityEcho>();
  std::unique_ptr<ObjectServer> server_;
  ObjectAdapter* adapter_ = nullptr;
};

TEST_F(AccessControlTest, WithoutPolicyEveryoneMayCall) {
  // The default: no rules, calls with and without an identity run.
  EXPECT_THAT(Call(kEcho, PeerIdentity()).status, IsOk());
  EXPECT_THAT(Call(kEcho, Cert("alice")).status, IsOk());
  EXPECT_THAT(Call(kEcho, PeerIdentity(), {{"korb-priority", "100"}}).status, IsOk());
  EXPECT_EQ(servant_->calls, 3);
}

TEST_F(AccessControlTest, ServantSeesThePeerIdentity) {
  // CallContext::peer_identity() is what the transport verified; its
  // address defaults to the transport's peer.
  PeerIdentity alice = Cert("alice");
  alice.dns_names = {"alice.example"};
  alice.uris = {"spiffe://korb/alice"};
  InMemoryReply reply = Call(kEcho, alice);
  ASSERT_THAT(reply.status, IsOk());
  korbtest::EchoReply echo;
  ASSERT_TRUE(echo.ParseFromString(reply.body));
  EXPECT_EQ(echo.metadata(),
            "alice|in-memory:1|cn:alice,dns:alice.example,uri:spiffe://korb/alice");
  // Without a certificate: no principals, only the address.
  reply = Call(kEcho, PeerIdentity());
  ASSERT_TRUE(echo.ParseFromString(reply.body));
  EXPECT_EQ(echo.metadata(), "|in-memory:1|");
}

TEST_F(AccessControlTest, OnlyListedCallersMayCall) {
  // callers = {cn:alice}: alice runs; bob and a caller without identity are
  // denied, with the caller named, and the servant never runs.
  ASSERT_THAT(adapter_->SetAccessPolicy({.callers = {"cn:alice"}}), IsOk());
  EXPECT_THAT(Call(kEcho, Cert("alice")).status, IsOk());
  ExpectDenied(Call(kEcho, Cert("bob")), "caller cn:bob may not call /korbtest.Echo/Echo of "
                                         "adapter 't'");
  ExpectDenied(Call(kPing, PeerIdentity()), "caller without identity (in-memory:1, no TLS)");
  EXPECT_EQ(servant_->calls, 1);
}

TEST_F(AccessControlTest, ReadonlyCallersMayCallOnlyReadonlyOperations) {
  // Ping is (korb.method).readonly; Echo is not.
  ASSERT_THAT(adapter_->SetAccessPolicy(
                  {.callers = {"cn:alice"}, .readonly_callers = {"cn:auditor"}}),
              IsOk());
  EXPECT_THAT(Call(kPing, Cert("auditor")).status, IsOk());
  ExpectDenied(Call(kEcho, Cert("auditor")),
               "caller cn:auditor may call only readonly operations; /korbtest.Echo/Echo of "
               "adapter 't' is not readonly");
  EXPECT_THAT(Call(kEcho, Cert("alice")).status, IsOk());
  EXPECT_EQ(servant_->calls, 2);
}

TEST_F(AccessControlTest, OperationRuleReplacesTheAdapterWideLists) {
  // operations["Echo"] names bob only: bob may Echo (though not a caller),
  // alice may not (though she is); Ping still follows `callers`. A full path
  // key wins over the name.
  AccessPolicy policy;
  policy.callers = {"cn:alice"};
  policy.operations["Echo"] = {"cn:bob"};
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(Call(kEcho, Cert("bob")).status, IsOk());
  ExpectDenied(Call(kEcho, Cert("alice")), "its access rule does not name the caller");
  EXPECT_THAT(Call(kPing, Cert("alice")).status, IsOk());
  ExpectDenied(Call(kPing, Cert("bob")), "may not call /korbtest.Echo/Ping");

  policy.operations[kEcho] = {"cn:carol"};
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(Call(kEcho, Cert("carol")).status, IsOk());
  ExpectDenied(Call(kEcho, Cert("bob")), "does not name the caller");
}

TEST_F(AccessControlTest, AnyoneMatchesCallersWithoutIdentity) {
  // "*" lets in every caller, certificate or not.
  AccessPolicy policy;
  policy.operations["Ping"] = {"*"};
  policy.callers = {"cn:alice"};
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(Call(kPing, PeerIdentity()).status, IsOk());
  ExpectDenied(Call(kEcho, PeerIdentity()), "caller without identity");
}

TEST_F(AccessControlTest, RaisingPriorityNeedsPriorityCallers) {
  // Priorities up to the operation's default (Echo 0, Ping 3) are anyone's;
  // above it only priority_callers may ask.
  ASSERT_THAT(adapter_->SetAccessPolicy(
                  {.callers = {"*"}, .priority_callers = {"cn:operator"}}),
              IsOk());
  EXPECT_THAT(Call(kEcho, Cert("alice"), {{"korb-priority", "0"}}).status, IsOk());
  EXPECT_THAT(Call(kEcho, Cert("alice"), {{"korb-priority", "-5"}}).status, IsOk());
  ExpectDenied(Call(kEcho, Cert("alice"), {{"korb-priority", "1"}}),
               "caller cn:alice may not raise korb-priority to 1 for /korbtest.Echo/Echo of "
               "adapter 't' (its default is 0)");
  EXPECT_THAT(Call(kPing, Cert("alice"), {{"korb-priority", "3"}}).status, IsOk());
  ExpectDenied(Call(kPing, Cert("alice"), {{"korb-priority", "4"}}), "(its default is 3)");
  EXPECT_THAT(Call(kEcho, Cert("operator"), {{"korb-priority", "100"}}).status, IsOk());
  EXPECT_EQ(servant_->calls, 4);
}

TEST_F(AccessControlTest, AuthenticatorTurnsTokensIntoPrincipals) {
  // A token proves "user:carol"; a bad token is the authenticator's
  // UNAUTHENTICATED, refined as permission-denied; certificates still count.
  AccessPolicy policy;
  policy.callers = {"user:carol", "cn:alice"};
  policy.authenticator = std::make_shared<TokenAuthenticator>();
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(Call(kEcho, PeerIdentity(), {{"authorization", "Bearer t-carol"}}).status, IsOk());
  ExpectDenied(Call(kEcho, PeerIdentity(), {{"authorization", "Bearer t-dave"}}),
               "caller user:dave may not call");
  InMemoryReply bad = Call(kEcho, Cert("alice"), {{"authorization", "Basic xyz"}});
  EXPECT_THAT(bad.status, StatusIs(absl::StatusCode::kUnauthenticated, "invalid bearer token"));
  EXPECT_EQ(bad.korb_error(), "permission-denied");
  EXPECT_THAT(Call(kEcho, Cert("alice")).status, IsOk());
  EXPECT_EQ(servant_->calls, 2);
}

TEST_F(AccessControlTest, DeniedCallLeavesNothingInTheReplyCache) {
  // A denied call with a request id is not cached: once allowed, the same
  // request id runs the operation.
  ASSERT_THAT(adapter_->SetAccessPolicy({.callers = {"cn:alice"}}), IsOk());
  const std::vector<std::pair<std::string, std::string>> id = {{"korb-request-id", "r-1"}};
  ExpectDenied(Call(kEcho, Cert("bob"), id), "cn:bob");
  ExpectDenied(Call(kEcho, Cert("bob"), id), "cn:bob");
  EXPECT_EQ(servant_->calls, 0);
  ASSERT_THAT(adapter_->SetAccessPolicy({.callers = {"cn:alice", "cn:bob"}}), IsOk());
  EXPECT_THAT(Call(kEcho, Cert("bob"), id).status, IsOk());
  EXPECT_EQ(servant_->calls, 1);
}

TEST_F(AccessControlTest, EmptyPolicyRestoresOpenAccessAndBadPoliciesAreRejected) {
  ASSERT_THAT(adapter_->SetAccessPolicy({.callers = {"cn:alice"}}), IsOk());
  ExpectDenied(Call(kEcho, Cert("bob")), "cn:bob");
  EXPECT_THAT(adapter_->SetAccessPolicy({.callers = {""}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("principal is empty")));
  ExpectDenied(Call(kEcho, Cert("bob")), "cn:bob");  // the old policy stays
  ASSERT_THAT(adapter_->SetAccessPolicy({}), IsOk());
  EXPECT_THAT(Call(kEcho, Cert("bob")).status, IsOk());
  // CreateAdapter checks AdapterOptions::access too.
  EXPECT_THAT(server_->CreateAdapter("u", {.access = {.readonly_callers = {std::string(2000, 'x')}}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("too long")));
}

TEST_F(AccessControlTest, PolicyFromAdapterOptionsAppliesFromTheFirstCall) {
  // AdapterOptions::access is in place before the adapter takes calls.
  absl::StatusOr<ObjectAdapter*> adapter =
      server_->CreateAdapter("v", {.lifespan = Lifespan::kPersistent,
                                   .access = {.callers = {"dns:ops.example"}}});
  ASSERT_THAT(adapter, IsOk());
  ASSERT_THAT((*adapter)->Activate("e", servant_), IsOk());
  ASSERT_THAT((*adapter)->Resume(), IsOk());
  auto call = [this](PeerIdentity peer) {
    InMemoryRequest request;
    request.method_path = kPing;
    request.object_key = EncodeObjectKey("v", "e");
    request.identity = std::move(peer);
    std::shared_ptr<InMemoryCall> started = InMemoryCall::Start(*server_, std::move(request));
    EXPECT_TRUE(started->Wait(kDeadline));
    return started->reply();
  };
  PeerIdentity ops = Cert("ops");
  ops.dns_names = {"ops.example"};
  EXPECT_THAT(call(ops).status, IsOk());
  ExpectDenied(call(Cert("ops")), "caller cn:ops may not call");
}

// Incarnates an IdentityEcho for any id.
class EchoActivator : public ServantActivator {
 public:
  absl::StatusOr<std::shared_ptr<Servant>> Incarnate(absl::string_view) override {
    return std::make_shared<IdentityEcho>();
  }
};

TEST_F(AccessControlTest, ReadonlyOfObjectsNotYetIncarnatedComesFromThePolicysInterfaces) {
  // Before an activator's first incarnation the adapter does not know the
  // operation's semantics: a readonly-only caller is denied unless the
  // policy lists the interface.
  ASSERT_THAT(adapter_->SetServantActivator(std::make_shared<EchoActivator>()), IsOk());
  AccessPolicy policy;
  policy.readonly_callers = {"cn:auditor"};
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  auto ping = [this](const std::string& id) {
    InMemoryRequest request;
    request.method_path = kPing;
    request.object_key = EncodeObjectKey("t", id);
    request.identity = Cert("auditor");
    std::shared_ptr<InMemoryCall> call = InMemoryCall::Start(*server_, std::move(request));
    EXPECT_TRUE(call->Wait(kDeadline));
    return call->reply();
  };
  ExpectDenied(ping("fresh-1"), "/korbtest.Echo/Ping of adapter 't' is not known to be readonly");
  policy.interfaces = {&korbtest::EchoServant::korb_static_interface()};
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(ping("fresh-2").status, IsOk());
  // Once incarnated, the object's own interface answers.
  policy.interfaces.clear();
  ASSERT_THAT(adapter_->SetAccessPolicy(policy), IsOk());
  EXPECT_THAT(ping("fresh-2").status, IsOk());
}

}  // namespace
}  // namespace korb
