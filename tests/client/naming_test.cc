// Indirect references (korbname://) in the client runtime, against a real
// naming service (korb::naming::Serve over its in-memory backend) and real
// replicas (in-process ObjectServers): resolution on first use and its
// cache, name-not-bound, re-resolution when every endpoint of a resolution
// fails or lacks the object, replica groups whose members join and leave
// while clients call (watches), cached resolutions outliving the naming
// service, synchronous and asynchronous calls. Waits are bounded; no timing
// asserts.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client.h"
#include "client/future.h"
#include "client/resolve.h"
#include "client/stub_base.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "korbclient/register.korb.h"
#include "korbtest/testing.korb.h"
#include "servants/naming/memory_backend.h"
#include "servants/naming/naming_service.h"
#include "tests/client/register_servant.h"
#include "tests/testing/status_matchers.h"

namespace korb {
namespace {

using ::korb::testing::Eventually;
using ::korb::testing::IsOk;
using ::korb::testing::OpText;
using ::korb::testing::ReplicaSet;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

MATCHER_P(IsOkAndEquals, expected, "is OK and equals " + ::testing::PrintToString(expected)) {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  return *arg == expected;
}

MATCHER_P(HoldsReplica, name, absl::StrCat("is OK and holds ", name)) {
  if (!arg.ok()) {
    *result_listener << "status " << arg.status();
    return false;
  }
  *result_listener << "holds " << *arg;
  return *arg == name;
}

// A naming service in its own ObjectServer, and a stub to manage it.
class NamingServer {
 public:
  absl::Status Start(Client& client) {
    absl::StatusOr<std::unique_ptr<ObjectServer>> server = ObjectServer::Start({});
    if (!server.ok()) return server.status();
    server_ = *std::move(server);
    absl::StatusOr<Ref> ref =
        naming::Serve(*server_, std::make_shared<naming::MemoryBackend>());
    if (!ref.ok()) return ref.status();
    ref_ = *ref;
    stub_ = std::make_unique<naming::NamingContextStub>(client, ref_);
    return absl::OkStatus();
  }
  void Stop() { server_->Shutdown(); }

  // The indirect reference to `name` here.
  Ref Name(const std::string& name, std::string type = "korbclient.Register") const {
    return Ref::Indirect(std::move(type), ref_.endpoints(), name);
  }
  absl::Status Bind(const std::string& name, const Ref& ref) {
    naming::BindRequest request;
    request.set_name(name);
    *request.mutable_ref() = ref.ToProto();
    return stub_->Bind(request).status();
  }
  absl::Status Rebind(const std::string& name, const Ref& ref) {
    naming::BindRequest request;
    request.set_name(name);
    *request.mutable_ref() = ref.ToProto();
    return stub_->Rebind(request).status();
  }
  absl::Status Join(const std::string& name, const Ref& ref, const std::string& member) {
    naming::JoinRequest request;
    request.set_name(name);
    *request.mutable_ref() = ref.ToProto();
    request.set_member_id(member);
    return stub_->Join(request).status();
  }
  absl::Status Leave(const std::string& name, const std::string& member) {
    naming::LeaveRequest request;
    request.set_name(name);
    request.set_member_id(member);
    return stub_->Leave(request).status();
  }

 private:
  std::unique_ptr<ObjectServer> server_;
  Ref ref_;
  std::unique_ptr<naming::NamingContextStub> stub_;
};

class NamingClientTest : public ::testing::Test {
 protected:
  // Every test starts with its client's options.
  void Start(ClientOptions options = {}) {
    client_ = std::make_unique<Client>(std::move(options));
    ASSERT_THAT(naming_.Start(*client_), IsOk());
    ASSERT_THAT(replicas_.Start(3), IsOk());
  }

  korbclient::RegisterStub StubFor(const std::string& name) {
    absl::StatusOr<korbclient::RegisterStub> stub =
        MakeStub<korbclient::RegisterStub>(*client_, naming_.Name(name).ToString());
    EXPECT_THAT(stub, IsOk());
    return *std::move(stub);
  }

  // Replica i's answer to a Get through `stub`, or the failure.
  static absl::StatusOr<std::string> Who(const korbclient::RegisterStub& stub,
                                         const CallOptions& options = {}) {
    absl::StatusOr<korbclient::Result> result = stub.Get(OpText(""), options);
    if (!result.ok()) return result.status();
    return result->replica();
  }

  NamingServer naming_;
  ReplicaSet replicas_;
  // Destroyed first: it cancels its watches' long-polls, which the naming
  // server would otherwise wait for when it shuts down.
  std::unique_ptr<Client> client_;
};

TEST_F(NamingClientTest, StubResolvesOnFirstUseAndCachesTheResolution) {
  // A stub from a korbname:// string calls the object the name is bound to.
  Start();
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(1)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  EXPECT_TRUE(stub.korb_ref().is_indirect());
  EXPECT_EQ(client_->CachedResolution(stub.korb_ref()), std::nullopt);
  EXPECT_EQ(stub.korb_location(), stub.korb_ref());
  EXPECT_THAT(Who(stub), HoldsReplica("r1"));
  EXPECT_EQ(client_->CachedResolution(stub.korb_ref()), replicas_.ref(1));
  EXPECT_EQ(stub.korb_location(), replicas_.ref(1));
  // Later calls, and other stubs of the name, use the cache.
  for (int i = 0; i < 20; ++i) EXPECT_THAT(Who(StubFor("reg")), HoldsReplica("r1"));
}

TEST_F(NamingClientTest, ResolveAnswersWhatANameLeadsTo) {
  // korb::Resolve: the direct reference, cached or asked; errors as calls get them.
  Start();
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(2)), IsOk());
  EXPECT_THAT(Resolve(*client_, naming_.Name("reg")), IsOkAndEquals(replicas_.ref(2)));
  EXPECT_EQ(client_->CachedResolution(naming_.Name("reg")), replicas_.ref(2));
  EXPECT_THAT(Resolve(*client_, naming_.Name("reg", "")), IsOkAndEquals(replicas_.ref(2)));
  EXPECT_THAT(Resolve(*client_, replicas_.ref(1)), IsOkAndEquals(replicas_.ref(1)));
  absl::StatusOr<Ref> unbound = Resolve(*client_, naming_.Name("nobody"));
  EXPECT_THAT(unbound, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(unbound.status()), ErrorKind::kNameNotBound);
  EXPECT_THAT(Resolve(*client_, naming_.Name("reg", "korbtest.Echo")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not korbtest.Echo")));
  EXPECT_THAT(Resolve(*client_, Ref()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(NamingClientTest, UnboundNameFailsWithNameNotBound) {
  // Synchronous and asynchronous calls fail at once with NOT_FOUND,
  // korb-error name-not-bound, naming the name.
  Start();
  korbclient::RegisterStub stub = StubFor("nobody/here");
  absl::StatusOr<std::string> sync = Who(stub, {.timeout = absl::Seconds(30)});
  EXPECT_THAT(sync, StatusIs(absl::StatusCode::kNotFound, HasSubstr("nobody/here")));
  EXPECT_EQ(ErrorKindOf(sync.status()), ErrorKind::kNameNotBound) << sync.status();
  Future<korbclient::Result> async = stub.GetAsync(OpText(""), CallOptions{});
  ASSERT_TRUE(async.WaitFor(absl::Seconds(30))) << "an unbound name must not hang";
  EXPECT_THAT(async.Get(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(async.Get().status()), ErrorKind::kNameNotBound);
  // Bound later: found on the next call.
  ASSERT_THAT(naming_.Bind("nobody/here", replicas_.ref(2)), IsOk());
  EXPECT_THAT(Who(stub), HoldsReplica("r2"));
}

TEST_F(NamingClientTest, ResolutionOfAnotherInterfaceIsRejected) {
  // An untyped korbname:// reference to a Register, used as an Echo.
  Start();
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(0)), IsOk());
  absl::StatusOr<korbtest::EchoStub> echo = MakeStub<korbtest::EchoStub>(
      *client_, naming_.Name("reg", "").ToString());
  ASSERT_THAT(echo, IsOk());
  korbtest::EchoRequest request;
  EXPECT_THAT(echo->Echo(request), StatusIs(absl::StatusCode::kInvalidArgument,
                                            HasSubstr("korbclient.Register, not korbtest.Echo")));
  // A typed one is rejected when the stub is made.
  EXPECT_THAT(MakeStub<korbtest::EchoStub>(*client_, naming_.Name("reg").ToString()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(NamingClientTest, ReResolvesWhenEveryEndpointFails) {
  // Without watches: the name is rebound, the old server stops; the next
  // call fails there, resolves again and succeeds on the new server.
  Start({.name_max_age = absl::Hours(1), .watch_names = false});
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(0)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  ASSERT_THAT(Who(stub), HoldsReplica("r0"));
  ASSERT_THAT(naming_.Rebind("reg", replicas_.ref(2)), IsOk());
  EXPECT_THAT(Who(stub), HoldsReplica("r0"));  // cached
  replicas_.server(0).Shutdown();
  EXPECT_THAT(Who(stub, {.timeout = absl::Seconds(30)}), HoldsReplica("r2"));
  EXPECT_EQ(client_->CachedResolution(stub.korb_ref()), replicas_.ref(2));
}

TEST_F(NamingClientTest, ReResolvesWhenTheObjectIsGone) {
  // Without watches: the object is deactivated at the old server (which
  // answers object-not-exist); even a non-idempotent call moves on.
  Start({.name_max_age = absl::Hours(1), .watch_names = false});
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(0)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  ASSERT_THAT(stub.Append(OpText("a")), IsOk());
  ASSERT_THAT(naming_.Rebind("reg", replicas_.ref(1)), IsOk());
  ASSERT_THAT(replicas_.adapter(0).Deactivate("reg"), IsOk());
  absl::StatusOr<korbclient::Result> moved = stub.Append(OpText("b"));
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->text(), "b");
  EXPECT_EQ(replicas_.servant(1).appends.load(), 1);
}

TEST_F(NamingClientTest, AsyncCallsResolveAndReResolve) {
  // Many asynchronous calls on a fresh name at once, then again after a
  // rebind and the old server's stop: all succeed.
  Start({.name_max_age = absl::Hours(1), .watch_names = false});
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(0)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  auto run = [&stub] {
    std::vector<Future<korbclient::Result>> calls;
    for (int i = 0; i < 50; ++i) calls.push_back(stub.GetAsync(OpText(""), {.timeout = absl::Seconds(30)}));
    std::vector<std::string> who;
    for (const Future<korbclient::Result>& call : calls) {
      EXPECT_TRUE(call.WaitFor(absl::Seconds(60)));
      EXPECT_THAT(call.Get(), IsOk());
      if (call.Get().ok()) who.push_back(call.Get()->replica());
    }
    return who;
  };
  EXPECT_THAT(run(), ::testing::Each(std::string("r0")));
  ASSERT_THAT(naming_.Rebind("reg", replicas_.ref(1)), IsOk());
  replicas_.server(0).Shutdown();
  EXPECT_THAT(run(), ::testing::Each(std::string("r1")));
}

TEST_F(NamingClientTest, ReplicaGroupMembersJoiningAndLeavingAreSeenWhileCalling) {
  // A watched name: a member that joins gets traffic, one that leaves stops
  // getting it; no call fails meanwhile.
  Start();
  ASSERT_THAT(naming_.Join("group", replicas_.ref(0), "m0"), IsOk());
  ASSERT_THAT(naming_.Join("group", replicas_.ref(1), "m1"), IsOk());
  korbclient::RegisterStub stub = StubFor("group");
  stub.korb_set_selection(SelectionPolicy::kRoundRobin);
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::thread load([&] {
    while (!stop) {
      if (!Who(stub, {.timeout = absl::Seconds(30)}).ok()) ++failed;
    }
  });
  EXPECT_TRUE(Eventually([&] { return replicas_.servant(1).gets > 10; }));
  ASSERT_THAT(naming_.Join("group", replicas_.ref(2), "m2"), IsOk());
  EXPECT_TRUE(Eventually([&] { return replicas_.servant(2).gets > 10; }))
      << "the joined member never got a call";
  ASSERT_THAT(naming_.Leave("group", "m0"), IsOk());
  EXPECT_TRUE(Eventually([&] {
    std::optional<Ref> now = client_->CachedResolution(stub.korb_ref());
    return now.has_value() && now->endpoints().size() == 2;
  })) << "the member that left is still in the resolution";
  const int before = replicas_.servant(0).gets;
  const int others = replicas_.servant(1).gets + replicas_.servant(2).gets;
  EXPECT_TRUE(Eventually([&] {
    return replicas_.servant(1).gets + replicas_.servant(2).gets > others + 20;
  }));
  stop = true;
  load.join();
  EXPECT_EQ(replicas_.servant(0).gets, before) << "calls still went to the member that left";
  EXPECT_EQ(failed.load(), 0);
}

TEST_F(NamingClientTest, CachedResolutionOutlivesTheNamingService) {
  // The naming service stops: calls go on with the cached resolution, also
  // once it is older than name_max_age.
  // Short polls: the naming server's shutdown waits for the one in flight.
  Start({.name_max_age = absl::Milliseconds(1), .name_watch_poll = absl::Milliseconds(500)});
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(1)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  ASSERT_THAT(Who(stub), HoldsReplica("r1"));
  naming_.Stop();
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(Who(stub, {.timeout = absl::Seconds(30)}), HoldsReplica("r1"));
  }
}

TEST_F(NamingClientTest, UnreachableNamingServiceFailsWithinTheDeadline) {
  // Nothing listens at the naming endpoint: the call fails (no hang), and
  // says which name it was resolving.
  Start();
  Ref nowhere = Ref::Indirect("korbclient.Register", {{"127.0.0.1", 1}}, "reg");
  korbclient::RegisterStub stub(*client_, nowhere);
  absl::StatusOr<std::string> result = Who(stub, {.timeout = absl::Seconds(2)});
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("resolving name \"reg\""));
}

TEST_F(NamingClientTest, WithoutACacheEveryCallResolves) {
  // name_cache_capacity 0: a rebind is seen by the very next call.
  Start({.name_cache_capacity = 0});
  ASSERT_THAT(naming_.Bind("reg", replicas_.ref(0)), IsOk());
  korbclient::RegisterStub stub = StubFor("reg");
  EXPECT_THAT(Who(stub), HoldsReplica("r0"));
  ASSERT_THAT(naming_.Rebind("reg", replicas_.ref(2)), IsOk());
  EXPECT_THAT(Who(stub), HoldsReplica("r2"));
  EXPECT_EQ(client_->CachedResolution(stub.korb_ref()), std::nullopt);
}

}  // namespace
}  // namespace korb
