// The NamingContext servant (servants/naming/naming_servant.h) hosted with
// korb::naming::Serve in an in-process ObjectServer and called through the
// generated stub over real gRPC: every operation, the validation of hostile
// input, and the errors as a client sees them (status and korb-error).
#include "servants/naming/naming_servant.h"

#include <memory>
#include <string>
#include <thread>

#include "adapter/object_server.h"
#include "client/client.h"
#include "common/ref.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "korb/naming.korb.h"
#include "servants/naming/memory_backend.h"
#include "servants/naming/naming_service.h"
#include "tests/naming/naming_test_util.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::HasSubstr;

using ::korb::naming::testing::InProcessNaming;
using ::korb::naming::testing::RefTo;
const korb::ObjectRef kBank = ::korb::naming::testing::BankRef();

class NamingServantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(naming_.Start(), IsOk());
    stub_ = std::make_unique<NamingContextStub>(client_, naming_.ref);
  }

  static BindRequest Bind(const std::string& name, const korb::ObjectRef& ref) {
    BindRequest request;
    request.set_name(name);
    *request.mutable_ref() = ref;
    return request;
  }
  static NameRequest Name(const std::string& name) {
    NameRequest request;
    request.set_name(name);
    return request;
  }

  InProcessNaming naming_;
  Client client_;
  std::unique_ptr<NamingContextStub> stub_;
};

TEST_F(NamingServantTest, ServedAsKorbNamingRoot) {
  EXPECT_EQ(naming_.ref.adapter(), "korb-naming");
  EXPECT_EQ(naming_.ref.id(), "root");
  EXPECT_EQ(naming_.ref.type(), "korb.naming.NamingContext");
  EXPECT_THAT(Serve(*naming_.server, naming_.backend), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(NamingServantTest, BindResolveUnbind) {
  ASSERT_THAT(stub_->Bind(Bind("bank", kBank)), IsOk());
  absl::StatusOr<ResolveReply> reply = stub_->Resolve(Name("bank"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(Ref::FromProto(reply->ref())->ToString(),
            "korb://127.0.0.1:7000/bank/main?type=bank.Bank");
  EXPECT_GT(reply->revision(), 0);
  EXPECT_THAT(stub_->Bind(Bind("bank", kBank)), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(stub_->Rebind(Bind("bank", kBank)), IsOk());
  ASSERT_THAT(stub_->Unbind(Name("bank")), IsOk());
  absl::StatusOr<ResolveReply> gone = stub_->Resolve(Name("bank"));
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound, HasSubstr("bank")));
  EXPECT_EQ(ErrorKindOf(gone.status()), ErrorKind::kNameNotBound);
}

TEST_F(NamingServantTest, UnbindingWhatIsNotBoundIsNameNotBound) {
  absl::StatusOr<korb::Empty> reply = stub_->Unbind(Name("never/bound"));
  EXPECT_THAT(reply, StatusIs(absl::StatusCode::kNotFound, HasSubstr("never/bound")));
  EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kNameNotBound);
}

TEST_F(NamingServantTest, MalformedNamesAreBadRequests) {
  for (const std::string& name :
       {std::string(""), std::string("/a"), std::string("a//b"), std::string("a/../b"),
        std::string("a b"), std::string(65, 'x'), std::string(300, 'x'),
        std::string("a\0b", 3)}) {
    absl::StatusOr<korb::Empty> reply = stub_->Bind(Bind(name, kBank));
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name")))
        << "name of " << name.size() << " bytes";
    EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kBadRequest);
    EXPECT_THAT(stub_->Resolve(Name(name)), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST_F(NamingServantTest, NamesTooLongSayTheLimit) {
  EXPECT_THAT(stub_->Resolve(Name(std::string(100, 'a') + "/" + std::string(100, 'b'))),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 64")));
  std::string long_name;
  for (int i = 0; i < 10; ++i) long_name += std::string(30, 'a') + "/";
  long_name += "end";
  EXPECT_THAT(stub_->Resolve(Name(long_name)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at most 256")));
}

TEST_F(NamingServantTest, MalformedReferencesAreBadRequests) {
  korb::ObjectRef no_endpoint = kBank;
  no_endpoint.clear_endpoints();
  korb::ObjectRef no_id = kBank;
  no_id.clear_id();
  korb::ObjectRef bad_type = kBank;
  bad_type.set_type("not a type");
  korb::ObjectRef bad_port = kBank;
  bad_port.mutable_endpoints(0)->set_port(70000);
  for (const korb::ObjectRef& ref : {korb::ObjectRef(), no_endpoint, no_id, bad_type, bad_port}) {
    absl::StatusOr<korb::Empty> reply = stub_->Bind(Bind("bank", ref));
    EXPECT_THAT(reply, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reference")))
        << ref.ShortDebugString();
    EXPECT_EQ(ErrorKindOf(reply.status()), ErrorKind::kBadRequest);
  }
  EXPECT_THAT(stub_->Resolve(Name("bank")), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(NamingServantTest, ReplicaGroupResolvesToEveryLiveMember) {
  absl::StatusOr<Lease> lease = stub_->GrantLease(LeaseRequest());
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(lease->ttl_seconds(), 10);  // MemoryBackend's default
  for (int port : {7001, 7002}) {
    JoinRequest join;
    join.set_name("counter");
    *join.mutable_ref() =
        RefTo("korb://127.0.0.1:" + std::to_string(port) + "/replicated/counter?type=r.C");
    join.set_member_id("127.0.0.1:" + std::to_string(port));
    join.set_lease(lease->id());
    ASSERT_THAT(stub_->Join(join), IsOk());
  }
  absl::StatusOr<ResolveReply> reply = stub_->Resolve(Name("counter"));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(Ref::FromProto(reply->ref())->ToString(),
            "korb://127.0.0.1:7001,127.0.0.1:7002/replicated/counter?type=r.C");
  EXPECT_EQ(reply->members_size(), 2);
  LeaseId id;
  id.set_id(lease->id());
  ASSERT_THAT(stub_->KeepAlive(id), IsOk());
  LeaveRequest leave;
  leave.set_name("counter");
  leave.set_member_id("127.0.0.1:7001");
  ASSERT_THAT(stub_->Leave(leave), IsOk());
  EXPECT_EQ(stub_->Resolve(Name("counter"))->members_size(), 1);
  ASSERT_THAT(stub_->RevokeLease(id), IsOk());
  EXPECT_THAT(stub_->Resolve(Name("counter")), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(stub_->KeepAlive(id), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(NamingServantTest, LeaseAndJoinInputIsChecked) {
  LeaseRequest ttl;
  ttl.set_ttl_seconds(3601);
  EXPECT_THAT(stub_->GrantLease(ttl), StatusIs(absl::StatusCode::kInvalidArgument));
  LeaseId zero;
  EXPECT_THAT(stub_->KeepAlive(zero), StatusIs(absl::StatusCode::kInvalidArgument));
  JoinRequest join;
  join.set_name("counter");
  *join.mutable_ref() = kBank;
  EXPECT_THAT(stub_->Join(join),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member_id")));
  join.set_member_id("m1");
  join.set_lease(42);
  EXPECT_THAT(stub_->Join(join), StatusIs(absl::StatusCode::kNotFound, HasSubstr("lease")));
}

TEST_F(NamingServantTest, ListPagesAndChecksItsInput) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_THAT(stub_->Bind(Bind("svc/s" + std::to_string(i), kBank)), IsOk());
  }
  ListRequest request;
  request.set_prefix("svc");
  request.set_page_size(3);
  absl::StatusOr<ListReply> page = stub_->List(request);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->bindings_size(), 3);
  request.set_page_token(page->next_page_token());
  page = stub_->List(request);
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->bindings_size(), 2);
  EXPECT_EQ(page->next_page_token(), "");
  request.set_page_size(-1);
  EXPECT_THAT(stub_->List(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.set_page_size(0);
  request.set_page_token("not//a name");
  EXPECT_THAT(stub_->List(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.set_prefix("svc/");
  request.set_page_token("");
  EXPECT_THAT(stub_->List(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")));
}

TEST_F(NamingServantTest, WaitForChangesIsALongPoll) {
  absl::StatusOr<ResolveReply> none = stub_->Resolve(Name("svc/a"));
  ASSERT_THAT(none, StatusIs(absl::StatusCode::kNotFound));
  WaitRequest wait;
  wait.set_prefix("svc");
  wait.set_timeout_ms(60000);
  Future<WaitReply> waiting = stub_->WaitForChangesAsync(wait, {.timeout = absl::Seconds(90)});
  // The wait is "from now": bind only once it is surely waiting, and check
  // the change arrives whichever came first by binding until it does.
  std::thread binder([&] {
    for (int i = 0; i < 600 && !waiting.Ready(); ++i) {
      (void)stub_->Rebind(Bind("svc/a", kBank));
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  absl::StatusOr<WaitReply> reply = waiting.Get();
  binder.join();
  ASSERT_THAT(reply, IsOk());
  ASSERT_GE(reply->changes_size(), 1);
  EXPECT_EQ(reply->changes(0).name(), "svc/a");
  EXPECT_EQ(reply->revision(), reply->changes(reply->changes_size() - 1).revision());
}

TEST_F(NamingServantTest, WaitAnswersBeforeTheCallerDeadline) {
  WaitRequest wait;
  wait.set_timeout_ms(60000);
  absl::StatusOr<WaitReply> reply = stub_->WaitForChanges(wait, {.timeout = absl::Seconds(1)});
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->changes_size(), 0);
  wait.set_after_revision(-1);
  EXPECT_THAT(stub_->WaitForChanges(wait), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace korb::naming
