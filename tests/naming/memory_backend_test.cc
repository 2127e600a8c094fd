// MemoryBackend (servants/naming/memory_backend.h) on its own, no gRPC (so it
// runs under TSan too): bindings, replica groups, leases on an injected
// clock, revisions and waits, and every bound.
#include "servants/naming/memory_backend.h"

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "common/ref.h"
#include "common/wire.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/naming/naming_test_util.h"
#include "tests/testing/status_matchers.h"

namespace korb::naming {
namespace {

using ::korb::testing::IsOk;
using ::korb::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using ::korb::naming::testing::Replica;
using ::korb::naming::testing::WaitFor;
const korb::ObjectRef kBank = ::korb::naming::testing::BankRef();

// A clock the test moves by hand; read from the backend's threads.
class FakeClock {
 public:
  absl::Time Now() const { return absl::FromUnixNanos(nanos_.load()); }
  void Advance(absl::Duration d) { nanos_ += absl::ToInt64Nanoseconds(d); }
  std::function<absl::Time()> AsFunction() {
    return [this] { return Now(); };
  }

 private:
  std::atomic<int64_t> nanos_{absl::ToUnixNanos(absl::FromUnixSeconds(1'000'000))};
};

std::vector<std::string> Names(const ListReply& reply) {
  std::vector<std::string> names;
  for (const Binding& b : reply.bindings()) names.push_back(b.name());
  return names;
}

TEST(MemoryBackend, BindResolveUnbind) {
  MemoryBackend backend;
  ASSERT_THAT(backend.Bind("bank", kBank), IsOk());
  absl::StatusOr<Binding> binding = backend.Get("bank");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).member_id(), "");
  EXPECT_EQ(binding->members(0).lease(), 0);
  EXPECT_EQ(binding->revision(), 1);
  EXPECT_THAT(backend.Bind("bank", kBank), StatusIs(absl::StatusCode::kAlreadyExists));
  ASSERT_THAT(backend.Unbind("bank"), IsOk());
  absl::StatusOr<Binding> gone = backend.Get("bank");
  EXPECT_THAT(gone, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ErrorKindOf(gone.status()), ErrorKind::kNameNotBound);
  EXPECT_EQ(backend.revision(), 2);
}

TEST(MemoryBackend, UnbindingWhatIsNotBoundIsNameNotBound) {
  MemoryBackend backend;
  absl::Status status = backend.Unbind("nothing/here");
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kNotFound, HasSubstr("nothing/here")));
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kNameNotBound);
}

TEST(MemoryBackend, RebindReplacesEveryMember) {
  MemoryBackend backend;
  absl::StatusOr<Lease> lease = backend.GrantLease(5);
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(backend.Join("counter", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend.Join("counter", Replica(2), "m2", lease->id()), IsOk());
  ASSERT_THAT(backend.Rebind("counter", kBank), IsOk());
  absl::StatusOr<Binding> binding = backend.Get("counter");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).ref().adapter(), "bank");
  // The lease no longer holds them: revoking it changes nothing.
  const int64_t revision = backend.revision();
  ASSERT_THAT(backend.RevokeLease(lease->id()), IsOk());
  EXPECT_EQ(backend.revision(), revision);
  EXPECT_THAT(backend.Get("counter"), IsOk());
}

TEST(MemoryBackend, JoinFormsAReplicaGroupInMemberOrder) {
  MemoryBackend backend;
  ASSERT_THAT(backend.Join("counter", Replica(2), "m2", 0), IsOk());
  ASSERT_THAT(backend.Join("counter", Replica(1), "m1", 0), IsOk());
  ASSERT_THAT(backend.Join("counter", Replica(3), "m3", 0), IsOk());
  absl::StatusOr<Binding> binding = backend.Get("counter");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 3);
  EXPECT_EQ(binding->members(0).member_id(), "m1");
  EXPECT_EQ(binding->members(2).member_id(), "m3");
  // Joining again replaces the member.
  ASSERT_THAT(backend.Join("counter", Replica(9), "m2", 0), IsOk());
  binding = backend.Get("counter");
  ASSERT_EQ(binding->members_size(), 3);
  EXPECT_EQ(binding->members(1).ref().endpoints(0).port(), 9u);
  ASSERT_THAT(backend.Leave("counter", "m2"), IsOk());
  ASSERT_THAT(backend.Leave("counter", "m2"), IsOk());  // idempotent
  EXPECT_EQ(backend.Get("counter")->members_size(), 2);
}

TEST(MemoryBackend, JoinRejectsAnotherObjectOrAPermanentBinding) {
  MemoryBackend backend;
  ASSERT_THAT(backend.Join("counter", Replica(1), "m1", 0), IsOk());
  EXPECT_THAT(backend.Join("counter", kBank, "m2", 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_THAT(backend.Bind("bank", kBank), IsOk());
  EXPECT_THAT(backend.Join("bank", kBank, "m1", 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("permanently")));
  EXPECT_THAT(backend.Bind("counter", Replica(1)), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(MemoryBackend, JoinNeedsALiveLease) {
  MemoryBackend backend;
  EXPECT_THAT(backend.Join("counter", Replica(1), "m1", 12345),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("lease")));
  EXPECT_THAT(backend.Get("counter"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(MemoryBackend, ExpiredLeaseTakesItsMembersAway) {
  FakeClock clock;
  MemoryBackend backend({.clock = clock.AsFunction()});
  absl::StatusOr<Lease> lease = backend.GrantLease(3);
  ASSERT_THAT(lease, IsOk());
  EXPECT_EQ(lease->ttl_seconds(), 3);
  ASSERT_THAT(backend.Join("counter", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend.Join("counter", Replica(2), "m2", 0), IsOk());
  clock.Advance(absl::Seconds(2));
  ASSERT_THAT(backend.KeepAlive(lease->id()), IsOk());
  clock.Advance(absl::Seconds(2));  // 4 s after the grant, 2 s after the renewal
  EXPECT_EQ(backend.Get("counter")->members_size(), 2);
  clock.Advance(absl::Seconds(1) + absl::Milliseconds(1));
  absl::StatusOr<Binding> binding = backend.Get("counter");
  ASSERT_THAT(binding, IsOk());
  ASSERT_EQ(binding->members_size(), 1);
  EXPECT_EQ(binding->members(0).member_id(), "m2");
  EXPECT_THAT(backend.KeepAlive(lease->id()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backend.Join("counter", Replica(1), "m1", lease->id()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(MemoryBackend, ExpiryThreadWakesWaiters) {
  // Real time: the backend's own thread expires the lease, and the waiter
  // learns of it without any other call.
  MemoryBackend backend;
  absl::StatusOr<Lease> lease = backend.GrantLease(1);
  ASSERT_THAT(lease, IsOk());
  ASSERT_THAT(backend.Join("svc/a", Replica(1), "m1", lease->id()), IsOk());
  const int64_t joined = backend.revision();
  absl::StatusOr<WaitReply> reply = backend.WaitForChanges(WaitFor("svc", joined, absl::Seconds(30)));
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(reply->changes_size(), 1) << "the lease did not expire within 30 s";
  EXPECT_EQ(reply->changes(0).name(), "svc/a");
  EXPECT_EQ(reply->changes(0).binding().members_size(), 0);
  EXPECT_THAT(backend.Get("svc/a"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(MemoryBackend, DefaultTtlAppliesToZero) {
  MemoryBackend backend({.default_ttl_seconds = 7});
  EXPECT_EQ(backend.GrantLease(0)->ttl_seconds(), 7);
}

TEST(MemoryBackend, RevokeRemovesMembersAndIsIdempotent) {
  MemoryBackend backend;
  absl::StatusOr<Lease> lease = backend.GrantLease(60);
  ASSERT_THAT(backend.Join("a", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend.Join("b", Replica(1), "m1", lease->id()), IsOk());
  ASSERT_THAT(backend.RevokeLease(lease->id()), IsOk());
  EXPECT_THAT(backend.Get("a"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backend.Get("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(backend.RevokeLease(lease->id()), IsOk());
}

TEST(MemoryBackend, ListPagesByWholeComponentPrefix) {
  MemoryBackend backend;
  for (const char* name : {"bank", "bank-x", "bank/a", "bank/b", "bank/b/c", "banking", "z"}) {
    ASSERT_THAT(backend.Bind(name, kBank), IsOk());
  }
  absl::StatusOr<ListReply> page = backend.List("bank", 2, "");
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(Names(*page), ElementsAre("bank", "bank/a"));
  EXPECT_EQ(page->revision(), 7);
  ASSERT_FALSE(page->next_page_token().empty());
  page = backend.List("bank", 2, page->next_page_token());
  EXPECT_THAT(Names(*page), ElementsAre("bank/b", "bank/b/c"));
  EXPECT_TRUE(page->next_page_token().empty());
  page = backend.List("", 100, "");
  EXPECT_EQ(page->bindings_size(), 7);
  EXPECT_TRUE(page->next_page_token().empty());
}

TEST(MemoryBackend, WaitReturnsChangesAfterARevision) {
  MemoryBackend backend;
  ASSERT_THAT(backend.Bind("bank/a", kBank), IsOk());  // 1
  ASSERT_THAT(backend.Bind("other", kBank), IsOk());   // 2
  ASSERT_THAT(backend.Bind("bank/b", kBank), IsOk());  // 3
  absl::StatusOr<WaitReply> reply = backend.WaitForChanges(WaitFor("bank", 0 + 1, absl::Seconds(5)));
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(reply->changes_size(), 1);
  EXPECT_EQ(reply->changes(0).name(), "bank/b");
  EXPECT_EQ(reply->changes(0).revision(), 3);
  EXPECT_EQ(reply->revision(), 3);
  EXPECT_FALSE(reply->history_lost());
}

TEST(MemoryBackend, WaitTimesOutEmptyWithTheRevisionToGoOn) {
  MemoryBackend backend;
  ASSERT_THAT(backend.Bind("other", kBank), IsOk());
  absl::StatusOr<WaitReply> reply =
      backend.WaitForChanges(WaitFor("bank", 0, absl::Milliseconds(300)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->changes_size(), 0);
  EXPECT_EQ(reply->revision(), 1);
}

TEST(MemoryBackend, WaitWakesOnAChange) {
  MemoryBackend backend;
  std::thread binder([&] {
    absl::SleepFor(absl::Milliseconds(100));
    ASSERT_THAT(backend.Bind("other", kBank), IsOk());
    ASSERT_THAT(backend.Bind("bank/x", kBank), IsOk());
  });
  absl::StatusOr<WaitReply> reply = backend.WaitForChanges(WaitFor("bank", 0, absl::Seconds(60)));
  binder.join();
  ASSERT_THAT(reply, IsOk());
  ASSERT_EQ(reply->changes_size(), 1) << "no change seen within 60 s";
  EXPECT_EQ(reply->changes(0).name(), "bank/x");
  EXPECT_EQ(reply->changes(0).binding().members_size(), 1);
}

TEST(MemoryBackend, WaitEndsWhenCancelled) {
  MemoryBackend backend;
  std::atomic<bool> cancelled{false};
  WaitParams params = WaitFor("", 0, absl::Seconds(60));
  params.cancelled = [&] { return cancelled.load(); };
  std::thread canceller([&] {
    absl::SleepFor(absl::Milliseconds(100));
    cancelled = true;
  });
  EXPECT_THAT(backend.WaitForChanges(params), StatusIs(absl::StatusCode::kCancelled));
  canceller.join();
}

TEST(MemoryBackend, HistoryLostBehindTheHistoryOrAheadOfTheDirectory) {
  MemoryBackend backend({.max_history = 3});
  for (int i = 0; i < 6; ++i) ASSERT_THAT(backend.Rebind("a", kBank), IsOk());
  absl::StatusOr<WaitReply> reply = backend.WaitForChanges(WaitFor("", 1, absl::Seconds(5)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_TRUE(reply->history_lost());
  EXPECT_EQ(reply->revision(), 6);
  reply = backend.WaitForChanges(WaitFor("", 3, absl::Seconds(5)));  // 4..6 retained
  ASSERT_THAT(reply, IsOk());
  EXPECT_FALSE(reply->history_lost());
  EXPECT_EQ(reply->changes_size(), 3);
  // A revision this directory never had (it restarted): history lost.
  reply = backend.WaitForChanges(WaitFor("", 1000, absl::Seconds(5)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_TRUE(reply->history_lost());
}

TEST(MemoryBackend, LargeBacklogComesInBoundedReplies) {
  MemoryBackend backend({.max_changes_per_reply = 2});
  for (int i = 0; i < 5; ++i) ASSERT_THAT(backend.Rebind("a", kBank), IsOk());
  absl::StatusOr<WaitReply> reply = backend.WaitForChanges(WaitFor("", 1, absl::Seconds(5)));
  ASSERT_THAT(reply, IsOk());
  EXPECT_EQ(reply->changes_size(), 2);
  EXPECT_EQ(reply->revision(), 3);
  reply = backend.WaitForChanges(WaitFor("", reply->revision(), absl::Seconds(5)));
  EXPECT_EQ(reply->changes_size(), 2);
  EXPECT_EQ(reply->revision(), 5);
}

TEST(MemoryBackend, BoundsAreEnforcedWithAClearStatus) {
  MemoryBackend backend({.max_members = 3, .max_members_per_name = 2, .max_leases = 1});
  ASSERT_THAT(backend.Join("g", Replica(1), "m1", 0), IsOk());
  ASSERT_THAT(backend.Join("g", Replica(2), "m2", 0), IsOk());
  absl::Status status = backend.Join("g", Replica(3), "m3", 0);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("per name")));
  EXPECT_EQ(ErrorKindOf(status), ErrorKind::kTransient);
  ASSERT_THAT(backend.Join("g", Replica(3), "m2", 0), IsOk());  // replacing is fine
  ASSERT_THAT(backend.Bind("x", kBank), IsOk());
  EXPECT_THAT(backend.Bind("y", kBank), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_THAT(backend.Rebind("x", kBank), IsOk());  // replacing is fine
  ASSERT_THAT(backend.GrantLease(5), IsOk());
  EXPECT_THAT(backend.GrantLease(5), StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST(MemoryBackend, WaitersAreBounded) {
  MemoryBackend backend({.max_waiters = 1});
  std::atomic<bool> release{false};
  std::thread waiter([&] {
    WaitParams params = WaitFor("", 0, absl::Seconds(60));
    params.cancelled = [&] { return release.load(); };
    (void)backend.WaitForChanges(params);
  });
  // The second waiter is refused once the first is in; poll until it is.
  absl::Status status;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    WaitParams params = WaitFor("", 0, absl::ZeroDuration());
    status = backend.WaitForChanges(params).status();
  } while (status.ok() && absl::Now() < deadline);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("waiting")));
  release = true;
  waiter.join();
}

TEST(MemoryBackend, LeaseIdsAreUnpredictable) {
  MemoryBackend a;
  MemoryBackend b;
  // Two instances (a restart) do not hand out the same first id.
  EXPECT_NE(a.GrantLease(5)->id(), b.GrantLease(5)->id());
}

}  // namespace
}  // namespace korb::naming
