// EtcdBackend (servants/naming/etcd_backend.h) against a real etcd (the
// Debian binary, started by the test on free ports of 127.0.0.1): the
// backend contract, etcd leases, watches and compaction, and etcd going away
// and coming back. Skipped, with a message, when etcd is not installed.
#include "servants/naming/etcd_backend.h"

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/ref.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/naming/naming_processes.h"
#include "tests/naming/naming_test_util.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::naming::testing::EtcdProcess;
using ::korb::naming::testing::Eventually;
using ::korb::naming::testing::FreePort;
using ::korb::naming::testing::Local;
using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::korb::naming::testing::Replica;
using ::korb::naming::testing::WaitFor;
const korb::ObjectRef kBank = ::korb::naming::testing::BankRef();

class EtcdBackendTest : public ::testing::Test {
 protected:
  // One etcd for the suite; each test keeps its keys under its own prefix.
  static void SetUpTestSuite() {
    if (!EtcdProcess::Binary()) return;
    absl::StatusOr<EtcdProcess> etcd = EtcdProcess::Start();
    ASSERT_THAT(etcd, IsOk());
    etcd_ = new EtcdProcess(*std::move(etcd));
  }
  static void TearDownTestSuite() {
    delete etcd_;
    etcd_ = nullptr;
  }

  void SetUp() override {
    if (!EtcdProcess::Binary()) GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    ASSERT_NE(etcd_, nullptr);
    backend_ = Make({etcd_->endpoint()});
  }

  std::shared_ptr<EtcdBackend> Make(std::vector<std::string> endpoints) {
    EtcdOptions options;
    options.endpoints = std::move(endpoints);
    options.key_prefix =
        absl::StrCat("/test/", ::testing::UnitTest::GetInstance()->current_test_info()->name(), "/");
    options.call_timeout = absl::Seconds(10);
    absl::StatusOr<std::shared_ptr<EtcdBackend>> backend = EtcdBackend::Create(options);
    EXPECT_THAT(backend, IsOk());
    return backend.ok() ? *backend : nullptr;
  }

  static EtcdProcess* etcd_;
  std::shared_ptr<EtcdBackend> backend_;
};

EtcdProcess* EtcdBackendTest::etcd_ = nullptr;

TEST(EtcdBackendOptions, AreChecked) {
  EXPECT_THAT(EtcdBackend::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EtcdBackend::Create({.endpoints = {"no port"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(EtcdBackend::Create({.endpoints = {"127.0.0.1:2379"}, .key_prefix = "/x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'/'")));
}

TEST_F(EtcdBackendTest, BindResolveUnbind) {
  ASSERT_THAT(backend_->Bind("bank", kBank), IsOk());
  absl::StatusOr<Binding> binding = backend_->Get("bank");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).member_id(), "");
  EXPECT_EQ(binding->members(0).ref().SerializeAsString(), kBank.SerializeAsString());
  EXPECT_GT(binding->revision(), 0);
  EXPECT_THAT(backend_->Bind("bank", kBank), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(backend_->Unbind("bank"), IsOk());
  absl::Status gone = backend_->Get("bank").status();
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(gone), ErrorKind::kNameNotBound);
  absl::Status unbind = backend_->Unbind("bank");
  EXPECT_THAT(unbind, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(unbind), ErrorKind::kNameNotBound);
}

TEST_F(EtcdBackendTest, ReplicaGroupJoinLeaveAndRebind) {
  ASSERT_THAT(backend_->Join("counter", Replica(2), "m2", 0), IsOk());
  ASSERT_THAT(backend_->Join("counter", Replica(1), "m1", 0), IsOk());
  EXPECT_THAT(backend_->Join("counter", kBank, "m3", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("same adapter")));
  EXPECT_THAT(backend_->Bind("counter", kBank), StatusIs(absl::StatusCode::kAlreadyExists));
  absl::StatusOr<Binding> binding = backend_->Get("counter");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 2);
  EXPECT_EQ(binding->members(0).member_id(), "m1");
  ASSERT_THAT(backend_->Leave("counter", "m1"), IsOk());
  ASSERT_THAT(backend_->Leave("counter", "m1"), IsOk());
  EXPECT_EQ(backend_->Get("counter")->members_size(), 1);
  ASSERT_THAT(backend_->Rebind("counter", kBank), IsOk());
  binding = backend_->Get("counter");
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).member_id(), "");
  EXPECT_THAT(backend_->Join("counter", kBank, "m1", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("permanently")));
  ASSERT_THAT(backend_->Rebind("counter", kBank), IsOk());  // over itself
}

TEST_F(EtcdBackendTest, MembersPerNameAreBounded) {
  absl::StatusOr<std::shared_ptr<EtcdBackend>> bounded = EtcdBackend::Create(
      {.endpoints = {etcd_->endpoint()}, .key_prefix = "/test/bounded/", .max_members_per_name = 1});
  ASSERT_THAT(bounded, IsOk());
  ASSERT_THAT((*bounded)->Join("g", Replica(1), "m1", 0), IsOk());
  EXPECT_THAT((*bounded)->Join("g", Replica(2), "m2", 0),
              StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_THAT((*bounded)->Join("g", Replica(2), "m1", 0), IsOk());  // replacing
}

TEST_F(EtcdBackendTest, LeasesHoldMembersUntilTheyExpire) {
  EXPECT_THAT(backend_->Join("svc", Replica(1), "m1", 424242),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("lease")));
  absl::StatusOr<Lease> lease = backend_->GrantLease(2);
  ASSERT_THAT(lease, IsOk());
  EXPECT_GE(lease->ttl_seconds(), 2);
  ASSERT_THAT(backend_->Join("svc", Replica(1), "m1", lease->id()), IsOk());
  EXPECT_EQ(backend_->Get("svc")->members(0).lease(), lease->id());
  ASSERT_THAT(backend_->KeepAlive(lease->id()), IsOk());
  EXPECT_TRUE(Eventually(absl::Seconds(30), [&] { return !backend_->Get("svc").ok(); }))
      << "the lease's member outlived it by 30 s";
  EXPECT_THAT(backend_->KeepAlive(lease->id()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backend_->RevokeLease(lease->id()), IsOk());  // already gone: fine
}

TEST_F(EtcdBackendTest, RevokeRemovesMembers) {
  absl::StatusOr<Lease> lease = backend_->GrantLease(60);
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(backend_->Join("a", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend_->Join("b", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend_->RevokeLease(lease->id()), IsOk());
  EXPECT_THAT(backend_->Get("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backend_->Get("b"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(EtcdBackendTest, ListPagesByWholeComponentPrefix) {
  for (const char* name : {"bank", "bank-x", "bank/a", "bank/b", "bank/b/c", "banking", "z"}) {
    ASSERT_THAT(backend_->Bind(name, kBank), IsOk());
  }
  ASSERT_THAT(backend_->Join("bank/g", Replica(1), "m1", 0), IsOk());
  ASSERT_THAT(backend_->Join("bank/g", Replica(2), "m2", 0), IsOk());
  std::vector<std::string> names;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ListReply> page = backend_->List("bank", 2, token);
    ASSERT_THAT(page, IsOk());
    EXPECT_LE(page->bindings_size(), 2);
    for (const Binding& b : page->bindings()) names.push_back(b.name());
    if (page->bindings_size() > 0 && page->bindings(page->bindings_size() - 1).name() == "bank/g") {
      EXPECT_EQ(page->bindings(page->bindings_size() - 1).members_size(), 2);
    }
    token = page->next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_THAT(names, ElementsAre("bank", "bank/a", "bank/b", "bank/b/c", "bank/g"));
  absl::StatusOr<ListReply> all = backend_->List("", 100, "");
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->bindings_size(), 8);
}

TEST_F(EtcdBackendTest, WaitSeesChangesUnderThePrefix) {
  ASSERT_THAT(backend_->Bind("other", kBank), IsOk());
  absl::StatusOr<WaitReply> reply = backend_->WaitForChanges(WaitFor("bank", 0, absl::Milliseconds(300)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->changes_size(), 0);
  const int64_t from = reply->revision();
  std::thread binder([&] {
    absl::SleepFor(absl::Milliseconds(200));
    EXPECT_THAT(backend_->Bind("banking", kBank), IsOk());
    EXPECT_THAT(backend_->Bind("bank/x", kBank), IsOk());
  });
  reply = backend_->WaitForChanges(WaitFor("bank", from, absl::Seconds(60)));
  binder.join();
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(reply->changes_size(), 1) << "no change within 60 s";
  EXPECT_EQ(reply->changes(0).name(), "bank/x");
  EXPECT_EQ(reply->changes(0).binding().members_size(), 1);
  EXPECT_EQ(reply->revision(), reply->changes(0).revision());
  // A deletion is a change with no members.
  ASSERT_THAT(backend_->Unbind("bank/x"), IsOk());
  reply = backend_->WaitForChanges(WaitFor("bank", reply->revision(), absl::Seconds(60)));
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(reply->changes_size(), 1);
  EXPECT_EQ(reply->changes(0).binding().members_size(), 0);
}

TEST_F(EtcdBackendTest, WaitBehindACompactionIsHistoryLost) {
  ASSERT_THAT(backend_->Rebind("a", kBank), IsOk());
  const int64_t first = backend_->Get("a")->revision();
  ASSERT_THAT(backend_->Rebind("a", kBank), IsOk());
  ASSERT_THAT(backend_->Rebind("a", kBank), IsOk());
  const int64_t last = backend_->Get("a")->revision();
  // Compact etcd's history up to the last change.
  auto channel = grpc::CreateChannel(etcd_->endpoint(), grpc::InsecureChannelCredentials());
  grpc::ClientContext context;
  etcdserverpb::CompactionRequest compact;
  compact.set_revision(last);
  etcdserverpb::CompactionResponse compacted;
  ASSERT_TRUE(etcdserverpb::KV::NewStub(channel)->Compact(&context, compact, &compacted).ok());
  absl::StatusOr<WaitReply> reply = backend_->WaitForChanges(WaitFor("", first, absl::Seconds(30)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_TRUE(reply->history_lost());
  EXPECT_GE(reply->revision(), last);
  // A revision etcd never had is lost history too.
  reply = backend_->WaitForChanges(WaitFor("", last + 1000000, absl::Seconds(30)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_TRUE(reply->history_lost());
}

TEST_F(EtcdBackendTest, UnreachableEtcdIsTransient) {
  std::shared_ptr<EtcdBackend> nowhere = Make({Local(FreePort())});
  absl::Status status = nowhere->Get("bank").status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("etcd")));
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
}

TEST_F(EtcdBackendTest, SecondEndpointServesWhenTheFirstIsDown) {
  std::shared_ptr<EtcdBackend> both = Make({Local(FreePort()), etcd_->endpoint()});
  ASSERT_THAT(both->Rebind("bank", kBank), IsOk());
  EXPECT_THAT(both->Get("bank"), IsOk());
}

TEST_F(EtcdBackendTest, ReconnectsAfterEtcdRestarts) {
  ASSERT_THAT(backend_->Rebind("bank", kBank), IsOk());
  ASSERT_THAT(etcd_->Restart(), IsOk());
  EXPECT_TRUE(Eventually(absl::Seconds(30), [&] { return backend_->Get("bank").ok(); }))
      << "no answer within 30 s of etcd's restart";
}

}  // namespace
}  // namespace korb::naming
